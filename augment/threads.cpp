// cv::setNumThreads is C++ only; these wrappers give cgo a C name for it.
#include <opencv2/core.hpp>
#include "threads.h"

void augment_set_num_threads(int n) { cv::setNumThreads(n); }
int augment_get_num_threads(void) { return cv::getNumThreads(); }
