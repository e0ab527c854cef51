"""`guanjia standards compare A B [--json]`: clause-by-clause comparison of two standards,
each a code in the library or a file (a draft)."""

from ..analysis import load_document
from ..compare import compare

MARKS = {"same": "=", "changed": "~", "moved": "→", "added": "+", "removed": "-"}


def add_arguments(parser):
    parser.add_argument("a", help="标准编号或文件（旧版 / 甲方）")
    parser.add_argument("b", help="标准编号或文件（新版 / 乙方）")


def run(options) -> dict:
    return compare(load_document(options["a"]), load_document(options["b"])).to_dict()


def render(result: dict) -> str:
    """The differences only (same clauses are counted, not listed)."""
    counts = "，".join(f"{k} {v}" for k, v in result["counts"].items())
    lines = [f"{result['a']} ⇄ {result['b']}：{counts}"]
    for pair in result["pairs"]:
        if pair["status"] == "same":
            continue
        numbers = pair["a_number"] or pair["b_number"]
        if pair["a_number"] != pair["b_number"]:
            numbers = f"{pair['a_number'] or '∅'} → {pair['b_number'] or '∅'}"
        similarity = f" ({pair['similarity']:.2f})" if pair["similarity"] is not None else ""
        lines.append(f"{MARKS[pair['status']]} {pair['status']:<8} {numbers}{similarity}")
        for n in pair["numbers"]:
            lines.append(f"      {n['a']} → {n['b']} {n['unit']}".rstrip())
        if pair["status"] in ("changed", "moved", "removed") and pair["a_text"]:
            lines.append(f"    - {pair['a_text']}")
        if pair["status"] in ("changed", "moved", "added") and pair["b_text"]:
            if pair["b_text"] != pair["a_text"]:
                lines.append(f"    + {pair['b_text']}")
    return "\n".join(lines)
