// gocv 0.31's C wrappers have no try/catch, so a cv::Exception thrown on
// hostile data unwinds into cgo and aborts the process. These wrappers
// catch it and hand its message back instead.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include "cvguard.h"

static char* message(const char* what) { return strdup(what ? what : "unknown C++ exception"); }

#define GUARD(body)                                   \
    try {                                             \
        body;                                         \
    } catch (const cv::Exception& e) {                \
        return message(e.what());                     \
    } catch (const std::exception& e) {               \
        return message(e.what());                     \
    } catch (...) {                                   \
        return message(NULL);                         \
    }                                                 \
    return NULL;

char* cvguard_imdecode(const unsigned char* buf, size_t len, int flags, void* dst) {
    // The buffer is only read: wrapping it avoids the copy gocv makes.
    GUARD(cv::imdecode(cv::Mat(1, (int)len, CV_8U, (void*)buf), flags, (cv::Mat*)dst))
}

char* cvguard_imencode(const char* ext, void* src, const int* params, int nparams,
                       unsigned char** out, size_t* outlen) {
    *out = NULL;
    *outlen = 0;
    GUARD({
        std::vector<uchar> v;
        cv::imencode(ext, *(cv::Mat*)src, v, std::vector<int>(params, params + nparams));
        if (!v.empty()) {
            *out = (unsigned char*)malloc(v.size());
            if (*out == NULL) return message("out of memory");
            memcpy(*out, v.data(), v.size());
            *outlen = v.size();
        }
    })
}

char* cvguard_resize(void* src, void* dst, int width, int height, int interp) {
    GUARD(cv::resize(*(cv::Mat*)src, *(cv::Mat*)dst, cv::Size(width, height), 0, 0, interp))
}
