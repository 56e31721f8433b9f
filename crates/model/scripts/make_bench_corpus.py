#!/usr/bin/env python3
"""Build a labelled JSON Lines corpus for training benchmarks from real Crossref records.

Reads the Crossref sample (`N.json.gz` with {"items": [...]} and `part-*.jsonl.gz`), labels
each work with the ASJC general fields (codes ending in 00) of its ISSNs, and writes
`--count` lines by cycling over the labelled works. Every copy after the first drops one
title word chosen at random, so the vocabulary grows a little as in real data. With
`--noise F`, copies also replace a fraction F of their title and abstract words by words
drawn from all records, which makes many new n-grams (a stress test of vocabulary size). Split
(train 80 %, validation 10 %, test 10 %) goes by source record, so copies of one record
share a split.

Each output line: {"id", "title", "abstract", "venue", "publisher", "type", "labels",
"split", "text"}, where "text" is title, abstract and venue joined for tools that take one
text field (scripts/peers.py).

Usage: make_bench_corpus.py --data DATA_DIR --count 1000000 --out works.jsonl
(DATA_DIR contains crossref/ and asjc/issn_subject_codes.csv.)
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
    parser.add_argument("--noise", type=float, default=0.0,
                        help="fraction of title and abstract words that copies replace with random words drawn from all records")
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
    pool = [word for record in records for word in (record["title"] + " " + (record["abstract"] or "")).split()]

    def add_noise(text):
        if not text or args.noise <= 0:
            return text
        words = text.split()
        for position in range(len(words)):
            if rng.random() < args.noise:
                words[position] = rng.choice(pool)
        return " ".join(words)

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
                title = add_noise(" ".join(words))
            abstract = add_noise(source["abstract"]) if copy > 0 else source["abstract"]
            record = {key: source[key] for key in ("venue", "publisher", "type", "labels")}
            record.update({"id": f"{source['doi']}#{copy}", "title": title, "abstract": abstract, "split": split})
            record["text"] = " ".join(part for part in (title, abstract, source["venue"]) if part)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
