#!/usr/bin/env python3
"""Judge and summarise a verify.sh run: PLAN.jsonl -> OUT/summary.json + OUT/summary.md.

Exit 0 when every gated check passes, 1 otherwise. Standard library only
(the GPU machine has Python 3.12 and no jq). Fields segtool may not have yet
(GPU memory and utilisation in results.json and bench's JSON summary) are
looked up by name anywhere in the document, so the report works before and
after they land.
"""
import csv
import json
import math
import os
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last_json_line(path):
    """The last line of a file that parses as a JSON object (segtool's --log-format json summary)."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "msg" not in obj:
                return obj
    return None


def find_keys(obj, pred, path=""):
    """(dotted path, value) for every key anywhere in obj for which pred(key) holds."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{path}.{k}" if path else k
            if pred(k.lower()) and not isinstance(v, (dict, list)):
                out.append((p, v))
            out.extend(find_keys(v, pred, p))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(find_keys(v, pred, f"{path}[{i}]"))
    return out


def first_number(pairs):
    for _, v in pairs:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def gpu_mem_of(doc):
    return first_number(find_keys(doc, lambda k: "gpu" in k and "mem" in k))


def gpu_util_of(doc):
    return first_number(find_keys(doc, lambda k: ("gpu" in k and "util" in k) or k in ("utilization", "utilisation")))


def smi(csv_path, idle_path):
    """Peak memory used (MiB, and above the idle reading before the run) and mean utilisation from nvidia-smi samples."""
    mem, util = [], []
    try:
        with open(csv_path) as f:
            for row in csv.reader(f):
                if len(row) < 3:
                    continue
                try:
                    mem.append(float(row[1]))
                    util.append(float(row[2]))
                except ValueError:
                    pass
    except OSError:
        return None
    if not mem:
        return None
    idle = None
    try:
        idle = float(open(idle_path).read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    busy = [u for u in util if u > 0]
    return {
        "samples": len(mem),
        "peak_mem_mib": max(mem),
        "idle_mem_mib": idle,
        "peak_mem_above_idle_mib": None if idle is None else max(mem) - idle,
        "util_mean_pct": sum(util) / len(util),
        "util_busy_mean_pct": sum(busy) / len(busy) if busy else 0.0,
        "util_max_pct": max(util),
    }


def metric(res, name):
    for m in (res or {}).get("metrics", []):
        if m.get("name") == name:
            return m
    return {}


def tail(path, n=12):
    try:
        return "\n".join(open(path, errors="replace").read().splitlines()[-n:])
    except OSError:
        return ""


def fmt(x, nd=4):
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        return f"{x:.{nd}f}"
    return str(x)


def main():
    plan_path, out = sys.argv[1], sys.argv[2]
    steps = [json.loads(line) for line in open(plan_path) if line.strip()]
    env = next((s for s in steps if s["kind"] == "env"), {})
    tol = float(env.get("tol", "1e-3"))
    min_ratio = float(env.get("min_ratio", "0.9"))
    gate_speed = env.get("gate_speed") == "1"
    on_gpu = env.get("device", "").startswith("cuda")
    checks = []

    def check(name, ok, detail, gated=True):
        checks.append({"check": name, "ok": bool(ok), "gated": gated, "detail": detail})

    # (a) doctor
    doctor = {}
    for s in steps:
        if s["kind"] != "doctor":
            continue
        text = open(s["text"], errors="replace").read() if os.path.exists(s["text"]) else ""
        dj = load_json(s["json"]) if s.get("json") else None
        gpu_name = env.get("gpu_name", "")
        cuda_line = next((l for l in text.splitlines() if l.lower().startswith("cuda")), "")
        gpu_in_text = bool(gpu_name) and gpu_name.lower() in text.lower()
        gpu_in_json = False
        if dj is not None:
            if gpu_name:
                gpu_in_json = gpu_name.lower() in json.dumps(dj).lower()
            else:  # no nvidia-smi: any GPU entry with a name
                listed = dj.get("gpus") or dj.get("gpu") or [] if isinstance(dj, dict) else []
                gpu_in_json = any(isinstance(v, str) and v.strip() for _, v in find_keys(listed, lambda k: k == "name"))
        doctor = {
            "exit": s["rc_text"], "json_exit": s["rc_json"] or None, "require_cuda_exit": s["rc_require"] or None,
            "json_flag": bool(s.get("json")), "json_parsed": dj is not None, "cuda_line": cuda_line,
            "gpu_named": gpu_in_text or gpu_in_json, "json": dj,
        }
        if on_gpu:
            check("doctor: CUDA provider", s["rc_require"] == "0", f"doctor --require-cuda exit {s['rc_require']}; {cuda_line}")
            extra = ""
            if isinstance(dj, dict) and dj.get("cuda_run") is not None:
                extra = "; cuda_run " + json.dumps(dj["cuda_run"])[:200]
            elif isinstance(dj, dict) and dj.get("gpus_error"):
                extra = "; gpus_error " + str(dj["gpus_error"])[:200]
            check("doctor: names the GPU", gpu_in_text or gpu_in_json,
                  f"'{gpu_name}' in doctor's text: {gpu_in_text}, in --json: {gpu_in_json if s.get('json') else 'no --json flag'}{extra}")
        else:
            check("doctor: runs", s["rc_text"] == "0", f"exit {s['rc_text']}; {cuda_line}")
        if s.get("json"):
            check("doctor --json parses", dj is not None, f"exit {s['rc_json']}", gated=True)
        else:
            check("doctor --json parses", False, "this segtool has no doctor --json yet", gated=False)

    # (b) accuracy
    acc = []
    for s in steps:
        if s["kind"] != "acc":
            continue
        row = {"model": s["model"], "variant": s["variant"]}
        if s["variant"] == "missing":
            row["ok"] = False
            row["problem"] = "model file missing"
            acc.append(row)
            check(f"accuracy {s['model']}", False, "model file missing")
            continue
        ref, test = load_json(s["ref"]), load_json(s["test"])
        problems = []
        if s["rc_ref"] != "0" or ref is None:
            problems.append(f"reference run failed (exit {s['rc_ref']})")
        if s["rc_test"] != "0" or test is None:
            problems.append(f"device run failed (exit {s['rc_test']}): {tail(s.get('log', ''), 3)}")
        diffs = {}
        if ref is not None and test is not None:
            for name in ("iou", "dice"):
                for how in ("accumulated", "mean"):
                    a, b = metric(ref, name).get(how), metric(test, name).get(how)
                    row[f"{name}_{how}_ref"], row[f"{name}_{how}_test"] = a, b
                    if a is None or b is None:
                        problems.append(f"{name} {how} missing")
                    else:
                        diffs[f"{name}_{how}"] = abs(a - b)
            rc, tc = ref.get("counts", {}), test.get("counts", {})
            row["images"] = tc.get("scored")
            if rc.get("scored") != tc.get("scored") or not tc.get("scored"):
                problems.append(f"scored {rc.get('scored')} (ref) vs {tc.get('scored')} (device)")
            prov = test.get("environment", {}).get("provider", "")
            row["provider"] = prov
            if on_gpu and "CUDA" not in prov:
                problems.append(f"device run's provider is {prov!r}, not CUDA (fallback: {test.get('environment', {}).get('fallback', '')})")
        row["max_abs_diff"] = max(diffs.values()) if diffs else None
        row["diffs"] = diffs
        row["problems"] = problems
        row["ok"] = not problems and row["max_abs_diff"] is not None and row["max_abs_diff"] <= tol
        acc.append(row)
        check(f"accuracy {s['model']} [{s['variant']}]", row["ok"],
              f"max abs diff {fmt(row['max_abs_diff'], 6)} (tol {tol:g})" + ("; " + "; ".join(problems) if problems else ""))

    # (c) throughput
    tp = []
    for s in steps:
        if s["kind"] != "tp":
            continue
        b = int(s["batch"])
        bench = last_json_line(s["bench"])
        res = load_json(s["eval"])
        row = {"batch": b, "bench_runs": int(s["runs"])}
        problems = []
        if s["rc_bench"] != "0" or bench is None:
            problems.append(f"bench model failed (exit {s['rc_bench']})")
        if s["rc_eval"] != "0" or res is None:
            problems.append(f"eval failed (exit {s['rc_eval']})")
        if bench is not None:
            r = bench.get("result", {})
            row["bench"] = {
                "images_per_s": r.get("images_per_s"), "p50_ms_per_call": r.get("p50_ms"),
                "p99_ms_per_call": r.get("p99_ms"), "mean_ms_per_call": r.get("mean_ms"),
                "provider": bench.get("provider"), "peak_gpu_mem_mib": gpu_mem_of(bench),
                "gpu_util_pct": gpu_util_of(bench), "smi": smi(s["smi_bench"], s["smi_bench_idle"]),
            }
            if on_gpu and "CUDA" not in str(bench.get("provider", "")):
                problems.append(f"bench provider {bench.get('provider')!r}")
        if res is not None:
            t = res.get("timing", {})
            row["eval"] = {
                "images_per_s": t.get("images_per_s"), "images": t.get("images"), "wall_s": t.get("wall_s"),
                "inference_calls": t.get("inference_calls"),
                "call_p50_ms": t.get("inference_call_ms", {}).get("p50"), "call_p99_ms": t.get("inference_call_ms", {}).get("p99"),
                "call_images_per_s": t.get("inference_images_per_s"),
                "inference_p50_ms": t.get("inference_ms", {}).get("p50"), "inference_p99_ms": t.get("inference_ms", {}).get("p99"),
                "end_to_end_p50_ms": t.get("end_to_end_ms", {}).get("p50"), "end_to_end_p99_ms": t.get("end_to_end_ms", {}).get("p99"),
                "stage_mean_ms": t.get("stage_mean_ms"), "session_ms": t.get("session_ms"),
                "peak_rss_mib": t.get("peak_rss_mib"), "peak_gpu_mem_mib": gpu_mem_of(t), "gpu_util_pct": gpu_util_of(t),
                "provider": res.get("environment", {}).get("provider"), "gpu": res.get("environment", {}).get("gpu"),
                "smi": smi(s["smi_eval"], s["smi_eval_idle"]),
            }
            if on_gpu and "CUDA" not in str(row["eval"]["provider"]):
                problems.append(f"eval provider {row['eval']['provider']!r}")
        bi = (row.get("bench") or {}).get("images_per_s")
        ei = (row.get("eval") or {}).get("images_per_s")
        row["ratio"] = ei / bi if bi and ei is not None else None
        row["problems"] = problems
        speed_ok = row["ratio"] is not None and row["ratio"] >= min_ratio
        row["ok"] = not problems and (speed_ok or not gate_speed)
        tp.append(row)
        check(f"throughput batch {b}: runs", not problems, "; ".join(problems) or "bench and eval ran")
        check(f"throughput batch {b}: eval >= {min_ratio:g} x bench", speed_ok,
              f"eval {fmt(ei, 1)} / bench {fmt(bi, 1)} images/s = {fmt(row['ratio'], 3)}", gated=gate_speed)

    ok = all(c["ok"] for c in checks if c["gated"]) and bool(acc) and bool(tp)
    summary = {
        "ok": ok, "env": env, "tolerance": tol, "min_ratio": min_ratio, "gate_speed": gate_speed,
        "checks": checks, "doctor": doctor, "accuracy": acc, "throughput": tp,
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    md = []
    md.append(f"## segtool GPU verification: {'PASS' if ok else 'FAIL'}")
    md.append("")
    md.append(f"device `{env.get('device')}` vs reference `{env.get('ref_device')}`; GPU {env.get('gpu_name') or '-'} "
              f"(driver {env.get('gpu_driver') or '-'}); {env.get('segtool_version')}; {env.get('cores')} cores; "
              f"quick={env.get('quick')}; GPU_FLAGS=`{env.get('gpu_flags') or ''}`")
    if env.get("bundle"):
        md.append(f"bundle: {env['bundle']}")
    md.append("")
    md.append("| check | result | detail |")
    md.append("|---|---|---|")
    for c in checks:
        res = ("pass" if c["ok"] else "FAIL") if c["gated"] else ("ok" if c["ok"] else "info")
        md.append(f"| {c['check']} | {res} | {c['detail'].replace('|', '/')} |")
    md.append("")
    md.append(f"### (b) accuracy: {env.get('device')} vs {env.get('ref_device')} (tolerance {tol:g})")
    md.append("")
    md.append("| model | variant | images | IoU acc ref / dev | IoU mean ref / dev | Dice acc ref / dev | Dice mean ref / dev | max abs diff | ok |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for r in acc:
        cells = []
        for k in ("iou_accumulated", "iou_mean", "dice_accumulated", "dice_mean"):
            cells.append(f"{fmt(r.get(k + '_ref'))} / {fmt(r.get(k + '_test'))}")
        md.append(f"| {r['model']} | {r['variant']} | {r.get('images', '-')} | " + " | ".join(cells) +
                  f" | {fmt(r.get('max_abs_diff'), 6)} | {'yes' if r['ok'] else 'NO'} |")
    md.append("")
    md.append(f"### (c) throughput: unet-aspp 800x600 on {env.get('device')} (eval must reach {min_ratio:g} x bench"
              f"{'' if gate_speed else ', not gated here'}; eval --metrics {env.get('tp_metrics') or 'all'})")
    md.append("")
    md.append("| batch | bench img/s | bench p50 / p99 ms per call | eval img/s | eval / bench | eval inference p50 / p99 ms | "
              "eval end-to-end p50 / p99 ms | peak GPU MiB bench / eval (segtool; smi) | GPU util % bench / eval (segtool; smi busy mean) | ok |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in tp:
        bn, ev = r.get("bench") or {}, r.get("eval") or {}
        bs, es = bn.get("smi") or {}, ev.get("smi") or {}
        mem = f"{fmt(bn.get('peak_gpu_mem_mib'), 0)} / {fmt(ev.get('peak_gpu_mem_mib'), 0)}; " \
              f"{fmt(bs.get('peak_mem_above_idle_mib'), 0)} / {fmt(es.get('peak_mem_above_idle_mib'), 0)}"
        util = f"{fmt(bn.get('gpu_util_pct'), 0)} / {fmt(ev.get('gpu_util_pct'), 0)}; " \
               f"{fmt(bs.get('util_busy_mean_pct'), 0)} / {fmt(es.get('util_busy_mean_pct'), 0)}"
        md.append(f"| {r['batch']} | {fmt(bn.get('images_per_s'), 1)} | {fmt(bn.get('p50_ms_per_call'), 1)} / "
                  f"{fmt(bn.get('p99_ms_per_call'), 1)} | {fmt(ev.get('images_per_s'), 1)} | {fmt(r.get('ratio'), 3)} | "
                  f"{fmt(ev.get('inference_p50_ms'), 1)} / {fmt(ev.get('inference_p99_ms'), 1)} | "
                  f"{fmt(ev.get('end_to_end_p50_ms'), 1)} / {fmt(ev.get('end_to_end_p99_ms'), 1)} | {mem} | {util} | "
                  f"{'yes' if r['ok'] else 'NO'} |")
    for r in tp:
        st = (r.get("eval") or {}).get("stage_mean_ms") or {}
        if st:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(st.items()))
            ev = r.get("eval") or {}
            md.append(f"\nbatch {r['batch']} eval session calls: p50 {fmt(ev.get('call_p50_ms'), 1)} / p99 {fmt(ev.get('call_p99_ms'), 1)} ms, "
                      f"{fmt(ev.get('call_images_per_s'), 1)} images/s of call time")
            md.append(f"\nbatch {r['batch']} eval stage means (ms per image): {parts}; "
                      f"{(r.get('eval') or {}).get('images')} images in {fmt((r.get('eval') or {}).get('wall_s'), 2)} s")
    md.append("")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
