"""Comparison (比对) of two 500-clause standards: ours against a naive baseline.

Two generated editions of one standard, 500 clauses each (25 chapters × 20), the second
with what a revision does: about 10 % of the clauses edited (numbers changed, wording
touched), a chapter inserted (everything after it renumbered), clauses deleted and new ones
added. A third, unrelated 500-clause standard is the worst case for alignment (nothing in
common: every clause goes through the fuzzy pass); the same again with long clauses
(~250 characters, a 500-clause standard of some 120,000 characters), since the fuzzy pass
grows with clause length (its baseline is timed on 50 of the 500 matrix rows and scaled).

Ours: `guanjia.standards.compare.compare` (exact text by dict, then number, then
rapidfuzz among leftovers; diffs and numbers only for changed pairs). Baseline: what one
writes first: the full pairwise difflib.SequenceMatcher ratio matrix (500 × 500), then each
clause of A greedily takes its best unused partner in B. Both align the same pairs on the
revision case (asserted on the count of matched clauses). Figures: median of --repeat runs
for ours, one run of the baseline (it takes seconds), ratio baseline / ours; target for ours
≤ 0.5 s.

    .venv/bin/python bench/bench_compare.py [--clauses 500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import copy
import difflib
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from guanjia.standards.compare import compare
from guanjia.standards.document import ClauseDoc, StandardDoc

WORDS = (
    "食堂 应 建立 反食品浪费 工作制度 明确 责任人 记录 保存 就餐人数 供餐量 剩余量 餐厨垃圾 "
    "采购 询价 比价 供应商 库存 周转 天数 报损率 自助餐 小份 取餐 工具 宣传 标识 光盘率 满意度 "
    "评价 考核 公务用车 排气量 购车价格 定位 终端 上报 间隔 维修 加油卡 处置 监管 预警 核查"
).split()
TAILS = [
    "不少于{n}家。",
    "不应超过{n}%。",
    "不应低于{n}%。",
    "保存不少于{n}年。",
    "不宜超过{n}天。",
]


def sentence(rnd: random.Random, words=(6, 14)) -> str:
    return "".join(rnd.choices(WORDS, k=rnd.randint(*words))) + rnd.choice(TAILS).format(
        n=rnd.randint(1, 200)
    )


def generated(clauses: int, seed: int, words=(6, 14)) -> StandardDoc:
    rnd = random.Random(seed)
    per_chapter = 20
    doc = StandardDoc(f"DB50/T {9000 + seed}—2024", "生成的标准（样例）")
    for chapter in range(1, clauses // per_chapter + 1):
        doc.clauses.append(ClauseDoc(str(chapter), "".join(rnd.choices(WORDS, k=2)), "", "heading"))
        for k in range(1, per_chapter):
            text = sentence(rnd, words)
            doc.clauses.append(ClauseDoc(f"{chapter}.{k}", "", text, "requirement"))
    return doc


def revised(a: StandardDoc, seed: int) -> StandardDoc:
    rnd = random.Random(seed)
    b = copy.deepcopy(a)
    b.code = a.code.replace("2024", "2026")
    body = [c for c in b.clauses if "." in c.number]
    for clause in rnd.sample(body, len(body) // 10):  # edited: a number, a word
        clause.text = clause.text.replace("不少于", "不低于").replace("1", "2", 1)
    cut = len(b.clauses) // 3
    del b.clauses[cut : cut + 8]  # deleted
    middle = len(b.clauses) // 2
    insert_at = next(n for n in range(middle, len(b.clauses)) if "." not in b.clauses[n].number)
    for clause in b.clauses[insert_at:]:  # a chapter inserted: everything after renumbered
        head, dot, rest = clause.number.partition(".")
        clause.number = f"{int(head) + 1}{dot}{rest}"
    new_chapter = int(b.clauses[insert_at].number) - 1
    new = [ClauseDoc(str(new_chapter), "新增要求", "", "heading")]
    new += [ClauseDoc(f"{new_chapter}.{k}", "", sentence(rnd)) for k in range(1, 8)]
    b.clauses[insert_at:insert_at] = new
    return b


def naive(a: StandardDoc, b: StandardDoc, rows: int | None = None) -> list:
    """The full pairwise SequenceMatcher matrix, then greedy best-partner matching (only the
    first `rows` rows of A when given: for the long-clause case, timed and extrapolated)."""
    text = lambda c: f"{c.title} {c.text}".strip()  # noqa: E731
    ta, tb = [text(c) for c in a.clauses][:rows], [text(c) for c in b.clauses]
    matrix = [[difflib.SequenceMatcher(None, x, y).ratio() for y in tb] for x in ta]
    used, pairs = set(), []
    for i, row in enumerate(matrix):
        best = (
            max((s, j) for j, s in enumerate(row) if j not in used) if len(used) < len(tb) else None
        )
        if best and best[0] >= 0.5:
            used.add(best[1])
            pairs.append((i, best[1], best[0]))
    return pairs


def timed(fn, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clauses", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    a = generated(args.clauses, 1)
    b = revised(a, 2)
    unrelated = generated(args.clauses, 3)
    long_a, long_b = generated(args.clauses, 4, (90, 120)), generated(args.clauses, 5, (90, 120))
    size = lambda d: sum(len(c.text) for c in d.clauses) // len(d.clauses)  # noqa: E731
    print(
        f"A {len(a.clauses)} clauses (~{size(a)} characters each), B (revision) "
        f"{len(b.clauses)}, C (unrelated) {len(unrelated.clauses)}; long-clause pair "
        f"{len(long_a.clauses)} + {len(long_b.clauses)} (~{size(long_a)} characters each)"
    )

    rows = []
    cases = (
        ("A vs revision", a, b, None),
        ("A vs unrelated", a, unrelated, None),
        ("long clauses, unrelated*", long_a, long_b, 50),
    )
    for label, one, other, sample in cases:
        ours_s, result = timed(lambda one=one, other=other: compare(one, other), args.repeat)
        base_s, base_pairs = timed(lambda one=one, other=other, n=sample: naive(one, other, n), 1)
        if sample:  # extrapolated from `sample` rows of the matrix
            base_s *= len(one.clauses) / sample
        matched = sum(1 for p in result.pairs if p.a_number and p.b_number)
        if label == "A vs revision":
            assert matched == len(base_pairs), (matched, len(base_pairs))
        base_matched = "—" if sample else len(base_pairs)
        rows.append((label, ours_s, base_s, matched, base_matched, result.counts))

    print()
    print(
        "| case | ours (median) | naive difflib matrix | ratio | pairs ours / naive "
        "| ours: statuses |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, ours_s, base_s, matched, base_matched, counts in rows:
        statuses = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(
            f"| {label} | {ours_s * 1000:.1f} ms | {base_s:.2f} s | {base_s / ours_s:.0f}× "
            f"| {matched} / {base_matched} | {statuses} |"
        )
    print("\n* naive time extrapolated from 50 of 500 rows of its matrix")
    worst = max(r[1] for r in rows)
    verdict = "meets" if worst <= 0.5 else "MISSES"
    print(f"\nslowest compare {worst * 1000:.1f} ms — {verdict} the 0.5 s target")


if __name__ == "__main__":
    main()
