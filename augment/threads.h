#ifndef AUGMENT_THREADS_H
#define AUGMENT_THREADS_H
#ifdef __cplusplus
extern "C" {
#endif
void augment_set_num_threads(int n);
int augment_get_num_threads(void);
#ifdef __cplusplus
}
#endif
#endif
