#!/usr/bin/env python3
"""Build a labelled JSON Lines corpus for training benchmarks from real Crossref records.

Reads the Crossref sample (`N.json.gz` with {"items": [...]} and `part-*.jsonl.gz`), labels
each work with the ASJC general fields (codes ending in 00) of its ISSNs, and writes
`--count` lines by cycling over the labelled works. Every copy after the first drops one
title word chosen at random, so the vocabulary grows a little as in real data. Split
(train 80 %, validation 10 %, test 10 %) goes by source record, so copies of one record
share a split.

Each output line: {"id", "title", "abstract", "venue", "publisher", "type", "labels",
"split", "text"}, where "text" is title, abstract and venue joined for tools that take one
text field (scripts/peers.py).

Usage: make_bench_corpus.py --data /work/shared/data --count 1000000 --out works.jsonl
"""
import argparse
import csv
import glob
import gzip
import html
import json
import os
import random
import re
import zlib

TAG = re.compile(r"<[^<>]{1,200}>")


def first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


def clean(text):
    if not text:
        return None
    text = html.unescape(TAG.sub(" ", text))
    text = " ".join(text.split())
    return text or None


def read_items(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        if path.endswith(".jsonl.gz"):
            for line in handle:
                line = line.strip()
                if line:
                    yield json.loads(line)
        else:
            yield from json.load(handle).get("items", [])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    fields = {}
    with open(os.path.join(args.data, "asjc", "issn_subject_codes.csv"), newline="") as handle:
        for row in csv.DictReader(handle):
            fields.setdefault(row["issn"], set()).add(row["subject_code"][:2] + "00")

    records = []
    for path in sorted(glob.glob(os.path.join(args.data, "crossref", "*.gz"))):
        try:
            for item in read_items(path):
                title = clean(first(item.get("title")))
                issns = [issn.replace("-", "").upper() for issn in item.get("ISSN") or [] if isinstance(issn, str)]
                labels = sorted({code for issn in issns for code in fields.get(issn, ())})
                if not title or not labels:
                    continue
                records.append({
                    "title": title,
                    "abstract": clean(item.get("abstract")),
                    "venue": clean(first(item.get("container-title"))),
                    "publisher": clean(item.get("publisher")),
                    "type": item.get("type"),
                    "labels": labels,
                    "doi": (item.get("DOI") or "").lower(),
                })
        except (OSError, EOFError, ValueError) as error:
            print(f"skipped {path}: {error}")
    print(f"{len(records)} labelled source works")

    rng = random.Random(args.seed)
    with open(args.out, "w", encoding="utf-8") as out:
        for index in range(args.count):
            source = records[index % len(records)]
            copy = index // len(records)
            bucket = zlib.crc32(source["doi"].encode()) % 10
            split = "train" if bucket < 8 else ("validation" if bucket == 8 else "test")
            title = source["title"]
            if copy > 0:
                words = title.split()
                if len(words) > 2:
                    del words[rng.randrange(len(words))]
                title = " ".join(words)
            record = {key: source[key] for key in ("abstract", "venue", "publisher", "type", "labels")}
            record.update({"id": f"{source['doi']}#{copy}", "title": title, "split": split})
            record["text"] = " ".join(part for part in (title, source["abstract"], source["venue"]) if part)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
