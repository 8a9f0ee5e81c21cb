# The reference side of coco's golden tests: reads a JSON request on stdin,
# answers with pycocotools' figures as JSON on stdout.
import base64
import contextlib
import io
import json
import sys

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def rle(req):
    # masks: [{"h", "w", "data": row-major 0/1 bytes in base64}];
    # strings: [{"h", "w", "counts"}]; polys: [{"h", "w", "polys"}]
    out = {"encode": [], "decode": [], "poly": []}
    for m in req.get("masks", []):
        a = np.asfortranarray(np.frombuffer(base64.b64decode(m["data"]), dtype=np.uint8).reshape(m["h"], m["w"]))
        r = mask_utils.encode(a)
        out["encode"].append({
            "counts": r["counts"].decode("ascii"),
            "area": int(mask_utils.area(r)),
            "bbox": [float(v) for v in mask_utils.toBbox(r)],
        })
    for s in req.get("strings", []):
        r = {"size": [s["h"], s["w"]], "counts": s["counts"].encode("ascii")}
        out["decode"].append(base64.b64encode(mask_utils.decode(r).tobytes(order="C")).decode("ascii"))
    for p in req.get("polys", []):
        r = mask_utils.merge(mask_utils.frPyObjects(p["polys"], p["h"], p["w"]))
        out["poly"].append(r["counts"].decode("ascii"))
    if "iou" in req:
        q = req["iou"]
        dt = [{"size": [q["h"], q["w"]], "counts": c.encode("ascii")} for c in q["dt"]]
        gt = [{"size": [q["h"], q["w"]], "counts": c.encode("ascii")} for c in q["gt"]]
        out["iou"] = mask_utils.iou(dt, gt, q["crowd"]).tolist()
        out["boxiou"] = mask_utils.iou(q["dtbox"], q["gtbox"], q["crowd"]).tolist()
    return out


def evaluate(req):
    # gt: a COCO file; dt_bbox, dt_segm: results lists (either may be empty)
    out = {}
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        gt = COCO()
        gt.dataset = req["gt"]
        gt.createIndex()
        for kind in ("bbox", "segm"):
            dts = req["dt_" + kind]
            if not dts:
                continue
            ev = COCOeval(gt, gt.loadRes(dts), kind)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            out[kind] = [float(v) for v in ev.stats]
            if "pr_iou" in req:
                t = [i for i, v in enumerate(ev.params.iouThrs) if abs(v - req["pr_iou"]) < 1e-9][0]
                s = ev.eval["precision"][t, :, :, 0, -1]
                out[kind + "_pr"] = [float(np.mean(r[r > -1])) if (r > -1).any() else -1.0 for r in s]
    return out


def load(req):
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(req["file"])
    anns = c.loadAnns(c.getAnnIds())
    return {"images": len(c.getImgIds()), "annotations": len(anns),
            "areas": [int(mask_utils.area(c.annToRLE(a))) for a in anns]}


if __name__ == "__main__":
    req = json.load(sys.stdin)
    fn = {"rle": rle, "eval": evaluate, "load": load}[req["op"]]
    json.dump(fn(req), sys.stdout)
