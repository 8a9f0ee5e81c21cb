#!/usr/bin/python3
"""Generate independent MAT v5 reference files for matfile's tests.

The files are written by SciPy's own MAT-file writer so that the Go reader
is checked against an implementation it shares no code with.

Rerun (Debian: apt-get install -y python3-scipy python3-numpy):

    cd matfile/testdata && /usr/bin/python3 gen.py

The header text embeds a creation date, so rerunning changes a few bytes of
each file but none of the values; matfile_test.go hard-codes the same values.
"""
import numpy as np
import scipy.io as sio

# (a) 4x3 uint8 mask, zlib-compressed elements (miCOMPRESSED).
mask = np.array([[0, 1, 255, 0],
                 [2, 3, 128, 4],
                 [5, 6, 7, 200]], dtype=np.uint8).T  # 4 rows x 3 cols
assert mask.shape == (4, 3)
sio.savemat("mask_u8_compressed.mat", {"mask": mask},
            format="5", do_compression=True)

# (b) 1x5 double row vector, like EG1800's trainlist.mat, uncompressed.
sio.savemat("list_double.mat",
            {"trainlist": np.array([[3, 7, 11, 19, 42]], dtype=np.float64)},
            format="5", do_compression=False)

# (c) a char variable (must be skipped) before a numeric one.
sio.savemat("char_and_num.mat",
            {"label": "portrait",
             "nums": np.array([[-1.5, 2.25]], dtype=np.float64)},
            format="5", do_compression=False)

# (d) a 2x2 logical matrix: stored as uint8 class with the logical flag.
sio.savemat("logical.mat",
            {"flags": np.array([[True, False], [False, True]])},
            format="5", do_compression=False)

# (e) a cell and a struct (both skipped) before an int16 row, compressed.
cell = np.empty((1, 2), dtype=object)
cell[0, 0] = np.array([[1.0]])
cell[0, 1] = "x"
sio.savemat("skip_cell_struct.mat",
            {"c": cell,
             "s": {"a": np.array([[5.0]])},
             "after": np.array([[-300, 7]], dtype=np.int16)},
            format="5", do_compression=True)
