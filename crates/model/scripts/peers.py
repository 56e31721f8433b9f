#!/usr/bin/env python3
"""Train peer text classifiers on a labelled JSON Lines file and report quality and cost.

Peers: scikit-learn TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True) with
OneVsRestClassifier(LinearSVC()), and the fastText command line (`fasttext supervised
-loss ova -wordNgrams 2`) when `fasttext` is on PATH. Each peer runs in its own child process
so its peak memory (ru_maxrss) is its own.

Input lines: {"text": ..., "labels": [...], "split": "train" | "validation" | "test"}; when
"text" is missing, "title" and "abstract" are joined. Peers train on the train split only
(the validation split is unused). A work's predicted labels are those with decision value
> 0 (score > 0.5 for fastText), or the top one when none passes.

Prints, per peer: micro-F1, macro-F1, P@1 on the test split, training wall time and CPU
time (user + system) in seconds, featurizing included, and peak memory in MiB.

Usage: peers.py FILE.jsonl [--peers sklearn,fasttext] [--jobs 1] [--limit N]
Needs scikit-learn (pip install scikit-learn).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def cpu_seconds():
    """User + system CPU time of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load(path, limit):
    splits = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit and number >= limit:
                break
            record = json.loads(line)
            text = record.get("text")
            if text is None:
                text = " ".join(part for part in (record.get("title"), record.get("abstract")) if part)
            texts, labels = splits[record.get("split") or "train"]
            texts.append(text)
            labels.append(record["labels"])
    return splits


def metrics(gold, predicted, top):
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer()
    binarizer.fit(gold + predicted)
    y_true = binarizer.transform(gold)
    y_pred = binarizer.transform(predicted)
    return {
        "micro_f1": f1_score(y_true, y_pred, average="micro", zero_division=0),
        "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "p_at_1": sum(t in g for t, g in zip(top, gold)) / max(len(gold), 1),
    }


def run_sklearn(splits, jobs):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    train_texts, train_labels = splits["train"]
    test_texts, test_labels = splits["test"]
    started = time.perf_counter()
    started_cpu = cpu_seconds()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(train_texts)
    binarizer = MultiLabelBinarizer()
    y_train = binarizer.fit_transform(train_labels)
    classifier = OneVsRestClassifier(LinearSVC(), n_jobs=jobs).fit(x_train, y_train)
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = cpu_seconds() - started_cpu

    decisions = classifier.decision_function(vectorizer.transform(test_texts))
    classes = list(binarizer.classes_)
    predicted, top = [], []
    for row in np.atleast_2d(decisions):
        best = int(np.argmax(row))
        chosen = [classes[i] for i in np.flatnonzero(row > 0)] or [classes[best]]
        predicted.append(chosen)
        top.append(classes[best])
    result = metrics(test_labels, predicted, top)
    result["train_seconds"] = train_seconds
    result["train_cpu_seconds"] = train_cpu_seconds
    result["features"] = len(vectorizer.vocabulary_)
    return result


def fasttext_line(text, labels):
    prefix = " ".join("__label__" + label.replace(" ", "_") for label in labels)
    return prefix + " " + " ".join(text.lower().split()) + "\n"


def run_fasttext(splits, threads):
    binary = shutil.which("fasttext")
    if binary is None:
        return {"skipped": "fasttext not on PATH (apt-get install fasttext)"}
    train_texts, train_labels = splits["train"]
    test_texts, test_labels = splits["test"]
    with tempfile.TemporaryDirectory() as directory:
        train_path = os.path.join(directory, "train.txt")
        with open(train_path, "w", encoding="utf-8") as handle:
            for text, labels in zip(train_texts, train_labels):
                handle.write(fasttext_line(text, labels))
        test_path = os.path.join(directory, "test.txt")
        with open(test_path, "w", encoding="utf-8") as handle:
            for text in test_texts:
                handle.write(" ".join(text.lower().split()) + "\n")
        model = os.path.join(directory, "model")
        started = time.perf_counter()
        started_cpu = cpu_seconds()
        subprocess.run(
            [binary, "supervised", "-input", train_path, "-output", model, "-loss", "ova",
             "-wordNgrams", "2", "-epoch", "10", "-thread", str(threads), "-verbose", "0"],
            check=True,
        )
        train_seconds = time.perf_counter() - started
        train_cpu_seconds = cpu_seconds() - started_cpu
        output = subprocess.run(
            [binary, "predict-prob", model + ".bin", test_path, "-1", "0.0"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()
    predicted, top = [], []
    for line in output:
        parts = line.split()
        pairs = [(parts[i][len("__label__"):], float(parts[i + 1])) for i in range(0, len(parts), 2)]
        pairs.sort(key=lambda pair: -pair[1])
        best = pairs[0][0] if pairs else ""
        predicted.append([label for label, score in pairs if score > 0.5] or [best])
        top.append(best)
    result = metrics(test_labels, predicted, top)
    result["train_seconds"] = train_seconds
    result["train_cpu_seconds"] = train_cpu_seconds
    return result


def child(arguments):
    splits = load(arguments.input, arguments.limit)
    if arguments.only == "sklearn":
        result = run_sklearn(splits, arguments.jobs)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if arguments.jobs != 1:
            peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    else:
        result = run_fasttext(splits, arguments.threads)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_mib"] = peak_kib / 1024
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--peers", default="sklearn,fasttext")
    parser.add_argument("--jobs", type=int, default=1, help="OneVsRestClassifier n_jobs")
    parser.add_argument("--threads", type=int, default=2, help="fastText -thread")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N lines")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.only:
        child(arguments)
        return

    print(f"{'peer':10} {'micro-F1':>9} {'macro-F1':>9} {'P@1':>7} {'train s':>9} {'train CPU s':>12} {'peak MiB':>9}")
    for peer in arguments.peers.split(","):
        command = [sys.executable, __file__, arguments.input, "--only", peer, "--jobs", str(arguments.jobs),
                   "--threads", str(arguments.threads), "--limit", str(arguments.limit)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        if "skipped" in result:
            print(f"{peer:10} skipped: {result['skipped']}")
            continue
        print(f"{peer:10} {result['micro_f1']:9.4f} {result['macro_f1']:9.4f} {result['p_at_1']:7.4f} "
              f"{result['train_seconds']:9.2f} {result['train_cpu_seconds']:12.2f} {result['peak_mib']:9.0f}")


if __name__ == "__main__":
    main()
