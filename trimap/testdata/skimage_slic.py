"""Time scikit-image's SLIC on the benchmark image, for comparison with
BenchmarkSLIC (same pixels, 2500 segments, compactness 10, 10 iterations).

    TRIMAP_BENCH_IMAGE_OUT=/tmp/bench1mp.png go test -run XXX -bench 'SLIC/workers=1' -benchtime 1x ./trimap/
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 trimap/testdata/skimage_slic.py /tmp/bench1mp.png 5

Needs Debian's python3-skimage (apt-get install -y python3-skimage).
"""
import sys
import time

import skimage
from skimage import io
from skimage.segmentation import slic

img = io.imread(sys.argv[1])[:, :, :3]
wall, cpu = [], []
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
    t0, c0 = time.perf_counter(), time.process_time()
    seg = slic(img, n_segments=2500, compactness=10, max_num_iter=10, start_label=0)
    wall.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
med = lambda v: sorted(v)[len(v) // 2] * 1e3
print("skimage %s on %dx%d: %d segments; wall ms min %.0f median %.0f; cpu ms min %.0f median %.0f" % (
    skimage.__version__, img.shape[1], img.shape[0], seg.max() + 1,
    min(wall) * 1e3, med(wall), min(cpu) * 1e3, med(cpu)))
