#!/usr/bin/python3
"""report.py: Markdown tables from bench/run.sh's results TSV.

  report.py [--machine machine.txt] results.tsv

Per tool and operation: the median over runs, with the range when there is
more than one run; CPU is user+sys of the whole process tree; peak memory is
the largest peak RSS of the tool's own process over all its operations
(median over runs), with the largest single process of the tree (gpg, for
arca and duplicity) beside it; target sizes after the full backup and after
the last incremental.  Then arca's ratio to each peer (arca / peer: below 1
means arca is faster or smaller) and the goals of issue 5.  "outside load" is
the CPU the rest of the machine used during the operation, in cores (0 =
quiet; the machine has os.cpu_count() cores).

Standard library only; run with /usr/bin/python3.
"""

import argparse
import csv
import statistics
import sys

OPS = [
	("full", "full backup"),
	("noop", "incremental, nothing changed"),
	("incr", "incremental, ~1 % changed"),
	("restore", "full restore"),
	("one", "restore one small file"),
]
TOOL_ORDER = ["arca", "duplicity", "restic", "borg"]
QUIET = 0.25


def med(xs):
	return statistics.median(xs) if xs else None


def fmt_range(xs, fmt):
	if not xs:
		return "—"
	m = fmt % med(xs)
	if len(xs) > 1 and min(xs) != max(xs):
		return "%s (%s–%s)" % (m, fmt % min(xs), fmt % max(xs))
	return m


def table(head, rows):
	out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
	for r in rows:
		out.append("| " + " | ".join(r) + " |")
	return "\n".join(out)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--machine")
	ap.add_argument("results")
	a = ap.parse_args()

	rows = list(csv.DictReader(open(a.results), delimiter="\t"))
	if not rows:
		sys.exit("no results in %s" % a.results)
	tools = [t for t in TOOL_ORDER if any(r["tool"] == t for r in rows)]
	ops = [(o, n) for o, n in OPS if any(r["op"] == o for r in rows)]
	runs = sorted({r["run"] for r in rows}, key=int)

	def vals(tool, op, f, ok_only=True):
		out = []
		for r in rows:
			if r["tool"] == tool and r["op"] == op:
				if ok_only and r["status"] != "0":
					continue
				out.append(f(r))
		return out

	wall = lambda r: float(r["wall"])
	# Older results files have no agent_cpu column.
	cpu = lambda r: float(r["user"]) + float(r["sys"]) + float(r.get("agent_cpu") or 0)
	rss = lambda r: int(r["rss_main_kib"]) / 1024.0
	rss_any = lambda r: int(r["rss_any_kib"]) / 1024.0
	load = lambda r: float(r["others_cpu"]) / max(0.001, float(r["wall"]))

	def peak(tool, f):
		"""Per run: the largest value over that run's operations; then the median."""
		per_run = []
		for run in runs:
			xs = [f(r) for r in rows if r["tool"] == tool and r["run"] == run and r["status"] == "0"]
			if xs:
				per_run.append(max(xs))
		return per_run

	def size(tool, op):
		return [int(r["target_bytes"]) / 1048576.0 for r in rows
			if r["tool"] == tool and r["op"] == op and r["target_bytes"] not in ("-", "")]

	if a.machine:
		print("```")
		print(open(a.machine).read().rstrip())
		print("```")
		print()
	print("%d run(s); medians, (min–max) over runs.\n" % len(runs))

	print("**Wall seconds**\n")
	body = [[name] + [fmt_range(vals(t, op, wall), "%.2f") for t in tools] for op, name in ops]
	body.append(["peak RSS, own process (MiB)"] + [fmt_range(peak(t, rss), "%.1f") for t in tools])
	body.append(["peak RSS, largest process of the tree (MiB)"] + [fmt_range(peak(t, rss_any), "%.1f") for t in tools])
	body.append(["target size after full (MiB)"] + [fmt_range(size(t, "full"), "%.1f") for t in tools])
	last = [o for o, _ in ops if o in ("incr", "noop")]
	if last:
		body.append(["target size at the end (MiB)"] + [fmt_range(size(t, last[-1]), "%.1f") for t in tools])
	print(table(["operation"] + tools, body))
	print()

	# The machine is shared: the same medians, from the operations that ran
	# while everyone else used less than QUIET cores, say what the tools do
	# on a quiet machine (n = how many such samples there were).
	quiet = lambda r: float(r["others_cpu"]) / max(0.001, float(r["wall"])) < QUIET
	print("**Wall seconds, only operations measured while the rest of the machine used "
	      "< %.2f cores** (median, [samples])\n" % QUIET)
	body = []
	for op, name in ops:
		cells = []
		for t in tools:
			xs = [wall(r) for r in rows if r["tool"] == t and r["op"] == op
			      and r["status"] == "0" and quiet(r)]
			cells.append("%s [%d]" % (fmt_range(xs, "%.2f"), len(xs)) if xs else "— [0]")
		body.append([name] + cells)
	print(table(["operation"] + tools, body))
	print()

	print("**CPU seconds (user+sys of the whole process tree, plus the gpg-agent's)**\n")
	body = [[name] + [fmt_range(vals(t, op, cpu), "%.2f") for t in tools] for op, name in ops]
	print(table(["operation"] + tools, body))
	print()

	print("**Peak RSS per operation, own process / largest process (MiB)**\n")
	body = []
	for op, name in ops:
		body.append([name] + ["%s / %s" % (fmt_range(vals(t, op, rss), "%.1f"),
						    fmt_range(vals(t, op, rss_any), "%.1f")) for t in tools])
	print(table(["operation"] + tools, body))
	print()

	print("**Outside load during each operation (other processes' CPU, in cores)**\n")
	body = [[name] + [fmt_range(vals(t, op, load, False), "%.2f") for t in tools] for op, name in ops]
	print(table(["operation"] + tools, body))
	print()

	bad = [r for r in rows if r["check"] not in ("ok", "-")]
	checked = [r for r in rows if r["check"] == "ok"]
	print("Restores checked against the source: %d ok, %d failed%s.\n"
	      % (len(checked), len(bad),
		 "" if not bad else " (" + ", ".join("%s %s run %s: %s" % (r["tool"], r["op"], r["run"], r["check"]) for r in bad) + ")"))

	if "arca" not in tools or len(tools) < 2:
		return
	peers = [t for t in tools if t != "arca"]

	def ratio(x, y):
		return "%.2f×" % (x / y) if x is not None and y else "—"

	print("**arca ÷ peer (wall time medians; below 1: arca is faster)**\n")
	body = []
	for op, name in ops:
		am = med(vals("arca", op, wall))
		body.append([name] + [ratio(am, med(vals(p, op, wall))) for p in peers])
	body.append(["CPU, full backup"] + [ratio(med(vals("arca", "full", cpu)), med(vals(p, "full", cpu))) for p in peers])
	body.append(["peak RSS, own process"] + [ratio(med(peak("arca", rss)), med(peak(p, rss))) for p in peers])
	body.append(["target size after full"] + [ratio(med(size("arca", "full")), med(size(p, "full"))) for p in peers])
	print(table(["operation"] + ["vs " + p for p in peers], body))
	print()

	# Issue 5's goals, where the peers they name were measured.
	def m(t, op):
		return med(vals(t, op, wall)) if t in tools else None

	goals = []
	a_full = m("arca", "full")
	fast = [x for x in (m("restic", "full"), m("borg", "full")) if x is not None]
	if a_full is not None and fast:
		goals.append(("full backup ≤ 0.7× the faster of restic/borg", a_full / min(fast), 0.7))
	if a_full is not None and m("duplicity", "full") is not None:
		goals.append(("full backup ≥ 5× faster than duplicity (arca ÷ duplicity ≤ 0.2)",
			      a_full / m("duplicity", "full"), 0.2))
	for op, lim, text in (("noop", 0.3, "nothing-changed incremental ≤ 0.3× restic"),
			      ("incr", 0.7, "1 %-changed incremental ≤ 0.7× restic"),
			      ("restore", 0.9, "full restore ≤ 0.9× restic"),
			      ("one", 1.0, "one small file ≤ 1.0× restic")):
		if m("arca", op) is not None and m("restic", op):
			goals.append((text, m("arca", op) / m("restic", op), lim))
	if goals:
		print("**Issue 5 goals (time ratios from this run)**\n")
		body = [[g, "%.2f×" % v, "≤ %.1f×" % lim, "yes" if v <= lim else "no"] for g, v, lim in goals]
		pr = med(peak("arca", rss))
		if pr is not None:
			body.append(["arca peak RSS ≤ 32 MiB", "%.1f MiB" % pr, "≤ 32 MiB", "yes" if pr <= 32 else "no"])
		print(table(["goal", "measured", "target", "met"], body))
		print()


if __name__ == "__main__":
	main()
