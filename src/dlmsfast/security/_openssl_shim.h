/* OpenSSL EVP AES-GCM, resolved at import from the libcrypto already loaded in
 * the Python process (_hashlib and _ssl link it), so that building dlmsfast
 * needs neither OpenSSL headers nor its import library.
 *
 * Only the few EVP functions AES-GCM needs are declared here, as function
 * pointer types; dlmsfast_resolve() finds a loaded libcrypto (dl_iterate_phdr
 * on Linux, the dyld image list on macOS, GetModuleHandle on Windows) and
 * binds them. The header is included by _gcm.pyx only (static functions).
 */
#ifndef DLMSFAST_OPENSSL_SHIM_H
#define DLMSFAST_OPENSSL_SHIM_H

#include <stdint.h>
#include <string.h>

typedef void *(*dlmsfast_fn_ctx_new)(void);
typedef void (*dlmsfast_fn_ctx_free)(void *);
typedef const void *(*dlmsfast_fn_cipher)(void);
typedef int (*dlmsfast_fn_init)(void *, const void *, void *,
                                const unsigned char *, const unsigned char *);
typedef int (*dlmsfast_fn_ctrl)(void *, int, int, void *);
typedef int (*dlmsfast_fn_update)(void *, unsigned char *, int *,
                                  const unsigned char *, int);
typedef int (*dlmsfast_fn_final)(void *, unsigned char *, int *);
typedef const char *(*dlmsfast_fn_version)(int);

static struct {
    dlmsfast_fn_ctx_new ctx_new;
    dlmsfast_fn_ctx_free ctx_free;
    dlmsfast_fn_cipher aes_128_gcm;
    dlmsfast_fn_cipher aes_256_gcm;
    dlmsfast_fn_init encrypt_init;
    dlmsfast_fn_init decrypt_init;
    dlmsfast_fn_ctrl ctrl;
    dlmsfast_fn_update encrypt_update;
    dlmsfast_fn_update decrypt_update;
    dlmsfast_fn_final encrypt_final;
    dlmsfast_fn_final decrypt_final;
    dlmsfast_fn_version version;
} dlmsfast_evp;

static char dlmsfast_libcrypto_path[1024];

#if defined(_WIN32)
#include <windows.h>
static void *dlmsfast_sym(void *lib, const char *name) {
    return (void *)GetProcAddress((HMODULE)lib, name);
}
#else
#include <dlfcn.h>
static void *dlmsfast_sym(void *lib, const char *name) {
    return dlsym(lib, name);
}
#endif

#define DLMSFAST_BIND(field, name) \
    if (!(*(void **)(&dlmsfast_evp.field) = dlmsfast_sym(lib, name))) return -1;

static int dlmsfast_bind(void *lib) {
    DLMSFAST_BIND(ctx_new, "EVP_CIPHER_CTX_new")
    DLMSFAST_BIND(ctx_free, "EVP_CIPHER_CTX_free")
    DLMSFAST_BIND(aes_128_gcm, "EVP_aes_128_gcm")
    DLMSFAST_BIND(aes_256_gcm, "EVP_aes_256_gcm")
    DLMSFAST_BIND(encrypt_init, "EVP_EncryptInit_ex")
    DLMSFAST_BIND(decrypt_init, "EVP_DecryptInit_ex")
    DLMSFAST_BIND(ctrl, "EVP_CIPHER_CTX_ctrl")
    DLMSFAST_BIND(encrypt_update, "EVP_EncryptUpdate")
    DLMSFAST_BIND(decrypt_update, "EVP_DecryptUpdate")
    DLMSFAST_BIND(encrypt_final, "EVP_EncryptFinal_ex")
    DLMSFAST_BIND(decrypt_final, "EVP_DecryptFinal_ex")
    *(void **)(&dlmsfast_evp.version) = dlmsfast_sym(lib, "OpenSSL_version");
    return 0;
}

static int dlmsfast_try(void *lib, const char *path) {
    if (lib == NULL || dlmsfast_bind(lib) != 0) {
        memset(&dlmsfast_evp, 0, sizeof(dlmsfast_evp));
        return -1;
    }
    strncpy(dlmsfast_libcrypto_path, path, sizeof(dlmsfast_libcrypto_path) - 1);
    return 0;
}

#if defined(_WIN32)
static int dlmsfast_resolve(void) {
    static const char *names[] = {
        "libcrypto-3-x64.dll", "libcrypto-3-arm64.dll", "libcrypto-3.dll",
        "libcrypto-1_1-x64.dll", "libcrypto-1_1.dll", NULL};
    int i;
    for (i = 0; names[i] != NULL; i++) {
        HMODULE h = GetModuleHandleA(names[i]);
        if (h != NULL && dlmsfast_try((void *)h, names[i]) == 0) return 0;
    }
    return -1;
}
#elif defined(__APPLE__)
#include <mach-o/dyld.h>
static int dlmsfast_resolve(void) {
    uint32_t i, count = _dyld_image_count();
    for (i = 0; i < count; i++) {
        const char *name = _dyld_get_image_name(i);
        const char *base = name ? strrchr(name, '/') : NULL;
        base = base ? base + 1 : name;
        if (base != NULL && strstr(base, "libcrypto") != NULL) {
            void *lib = dlopen(name, RTLD_NOLOAD | RTLD_LAZY);
            if (dlmsfast_try(lib, name) == 0) return 0;
        }
    }
    return -1;
}
#else
#include <link.h>
static int dlmsfast_phdr_callback(struct dl_phdr_info *info, size_t size, void *found) {
    const char *name = info->dlpi_name;
    const char *base = name ? strrchr(name, '/') : NULL;
    (void)size;
    base = base ? base + 1 : name;
    if (base != NULL && strstr(base, "libcrypto") != NULL) {
        void *lib = dlopen(name, RTLD_NOLOAD | RTLD_LAZY);
        if (dlmsfast_try(lib, name) == 0) {
            *(int *)found = 1;
            return 1;
        }
    }
    return 0;
}
static int dlmsfast_resolve(void) {
    int found = 0;
    dl_iterate_phdr(dlmsfast_phdr_callback, &found);
    return found ? 0 : -1;
}
#endif

static const char *dlmsfast_openssl_version(void) {
    return dlmsfast_evp.version ? dlmsfast_evp.version(0) : "";
}
#define dlmsfast_ctx_new() dlmsfast_evp.ctx_new()
#define dlmsfast_ctx_free(c) dlmsfast_evp.ctx_free(c)
#define dlmsfast_aes_128_gcm() dlmsfast_evp.aes_128_gcm()
#define dlmsfast_aes_256_gcm() dlmsfast_evp.aes_256_gcm()
#define dlmsfast_encrypt_init(c, ci, k, iv) dlmsfast_evp.encrypt_init(c, ci, NULL, k, iv)
#define dlmsfast_decrypt_init(c, ci, k, iv) dlmsfast_evp.decrypt_init(c, ci, NULL, k, iv)
#define dlmsfast_ctrl(c, t, a, p) dlmsfast_evp.ctrl(c, t, a, p)
#define dlmsfast_encrypt_update(c, o, ol, i, il) dlmsfast_evp.encrypt_update(c, o, ol, i, il)
#define dlmsfast_decrypt_update(c, o, ol, i, il) dlmsfast_evp.decrypt_update(c, o, ol, i, il)
#define dlmsfast_encrypt_final(c, o, ol) dlmsfast_evp.encrypt_final(c, o, ol)
#define dlmsfast_decrypt_final(c, o, ol) dlmsfast_evp.decrypt_final(c, o, ol)

#endif /* DLMSFAST_OPENSSL_SHIM_H */
