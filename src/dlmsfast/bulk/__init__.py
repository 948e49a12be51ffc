"""Bulk collection: the results store (:mod:`dlmsfast.bulk.store`) that the bulk
reader and ``dlmsfast listen --store`` write."""
