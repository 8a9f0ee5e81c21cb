#!/usr/bin/python3
"""Bare OpenCV calls matching BenchmarkOps in bench_test.go, for a
side-by-side comparison: same image, same parameters, same calls.

Run with Debian's python3-opencv, single-threaded like the Go side under
OPENCV_FOR_THREADS_NUM=1:

    /usr/bin/python3 augment/testdata/bench_cv2.py [seconds-per-op]

Prints op name, images per wall second and images per CPU second, one op
per line.
"""
import math
import os
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("SEGTOOL_SHARED", os.path.join(here, "..", "..", "..", "shared"))
pp = os.path.join(shared, "data", "people-parts")
img = cv2.imread(os.path.join(pp, "images", "000335.png"), cv2.IMREAD_COLOR)
lab = cv2.imread(os.path.join(pp, "labels", "000335.png"), cv2.IMREAD_GRAYSCALE)
if img is None or lab is None:
    print("shared photo not found: using a random 512x512 image", file=sys.stderr)
    rng0 = np.random.default_rng(0)
    img = rng0.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    lab = rng0.integers(0, 2, (512, 512), dtype=np.uint8)
mask = np.where(lab > 0, 255, 0).astype(np.uint8)
h, w = img.shape[:2]
rng = np.random.default_rng(1)
ident = np.arange(256, dtype=np.float64)


def lut3(t):
    return np.repeat(np.clip(np.round(t), 0, 255).astype(np.uint8)[:, None], 3, axis=1).reshape(1, 256, 3)


def add():
    return cv2.LUT(img, lut3(ident + 20))


def noise_add(draw):
    n = np.empty(img.shape, np.int16)
    draw(n)
    return cv2.add(img, n, dtype=cv2.CV_8U)


def add_elementwise():
    return noise_add(lambda n: cv2.randu(n, -20, 21))


def gaussian_noise():
    return noise_add(lambda n: cv2.randn(n, 0, 10))


def hsv_lut(th, ts, tv):
    t = np.stack([np.clip(np.round(x), 0, 255).astype(np.uint8) for x in (th, ts, tv)], axis=1).reshape(1, 256, 3)
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    cv2.LUT(hsv, t, dst=hsv)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def brightness_hsv():
    return hsv_lut(ident, ident, ident * 1.2)


def hue_saturation():
    th = np.where(ident < 180, (ident + 5) % 180, ident)
    return hsv_lut(th, ident * 1.2, ident)


def gamma():
    return cv2.LUT(img, lut3(255 * (ident / 255) ** 1.5))


def contrast():
    return cv2.LUT(img, lut3(128 + 1.3 * (ident - 128)))


def jpeg_quality():
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 50])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def occlusion():
    out = img.copy()  # the Go side works on a clone made outside its timer
    for _ in range(3):
        rw, rh = round(0.2 * w), round(0.2 * h)
        x, y = rng.integers(0, w - rw + 1), rng.integers(0, h - rh + 1)
        out[y:y + rh, x:x + rw] = rng.integers(0, 256, (rh, rw, 3), dtype=np.uint8)
    return out


def affine_matrix(deg, scale, tx, ty, shear):
    s, c = math.sin(math.radians(deg)), math.cos(math.radians(deg))
    k = math.tan(math.radians(shear))
    a = np.array([[c * scale, (c * k - s) * scale], [s * scale, (s * k + c) * scale]])
    ctr = np.array([(w - 1) / 2, (h - 1) / 2])
    b = ctr + np.array([tx * w, ty * h]) - a @ ctr
    return np.hstack([a, b[:, None]])


def warp(m):
    return (cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0),
            cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0))


def affine():
    return warp(affine_matrix(10, 1.1, 0.05, 0.05, 5))


def rotate():
    return warp(affine_matrix(10, 1, 0, 0, 0))


def random_crop():
    x, y = rng.integers(0, w - 384 + 1), rng.integers(0, h - 384 + 1)
    return img[y:y + 384, x:x + 384].copy(), mask[y:y + 384, x:x + 384].copy()


def resize():
    return (cv2.resize(img, (256, 256), interpolation=cv2.INTER_LINEAR),
            cv2.resize(mask, (256, 256), interpolation=cv2.INTER_NEAREST_EXACT))


def pad_to():
    t, l = (640 - h) // 2, (640 - w) // 2
    return (cv2.copyMakeBorder(img, t, 640 - h - t, l, 640 - w - l, cv2.BORDER_CONSTANT, value=0),
            cv2.copyMakeBorder(mask, t, 640 - h - t, l, 640 - w - l, cv2.BORDER_CONSTANT, value=0))


ops = {
    "add": add,
    "add_elementwise": add_elementwise,
    "gaussian_noise": gaussian_noise,
    "brightness_hsv": brightness_hsv,
    "hue_saturation": hue_saturation,
    "gamma": gamma,
    "contrast": contrast,
    "jpeg_quality": jpeg_quality,
    "mean_blur": lambda: cv2.blur(img, (5, 5)),
    "median_blur": lambda: cv2.medianBlur(img, 5),
    "gaussian_blur": lambda: cv2.GaussianBlur(img, (0, 0), 1.5),
    "occlusion": occlusion,
    "fliplr": lambda: (cv2.flip(img, 1), cv2.flip(mask, 1)),
    "flipud": lambda: (cv2.flip(img, 0), cv2.flip(mask, 0)),
    "affine": affine,
    "rotate": rotate,
    "random_crop": random_crop,
    "resize": resize,
    "pad_to": pad_to,
}


def bench(fn, seconds):
    """Images per wall second and per CPU second of this process."""
    for _ in range(3):
        fn()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        n += 1
        t = time.perf_counter() - t0
        if t >= seconds:
            return n / t, n / (time.process_time() - c0)


if __name__ == "__main__":
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    only = sys.argv[2:]
    for name, fn in ops.items():
        if not only or name in only:
            wall, cpu = bench(fn, secs)
            print(f"{name} {wall:.1f} {cpu:.1f}")
