#ifndef DATASET_CVGUARD_H
#define DATASET_CVGUARD_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
// Each returns NULL on success, or the C++ exception's message (malloc'd;
// the caller frees it). dst and src are gocv Mats (cv::Mat*).
char* cvguard_imdecode(const unsigned char* buf, size_t len, int flags, void* dst);
char* cvguard_imencode(const char* ext, void* src, const int* params, int nparams,
                       unsigned char** out, size_t* outlen);
char* cvguard_resize(void* src, void* dst, int width, int height, int interp);
#ifdef __cplusplus
}
#endif
#endif
