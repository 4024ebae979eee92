"""`fmnist results add|embed|readme`: the committed results and the README tables."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "results",
        help="copy finished runs into results/ and regenerate the README tables",
        description="`add RUN_DIR...` copies completed runs (config, history, metrics, test "
        "probabilities; never weights) into results/runs/. `embed RUN_DIR` writes a t-SNE map "
        "of the run's penultimate features on the test set to results/embeddings/. `readme` "
        "regenerates the README's results section (the headline) and results/README.md (all "
        "runs) from results/; with --check it only says whether both are up to date.",
    )
    p.add_argument("action", choices=["add", "embed", "readme"])
    p.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run directories (add, embed)")
    p.add_argument("--check", action="store_true", help="readme: exit 1 if it is out of date")
    p.add_argument(
        "--size",
        type=int,
        help="embed: a stratified sample of this many test images (default all 10,000)",
    )
    p.add_argument("--seed", type=int, default=0, help="embed: t-SNE and sampling seed")
    p.add_argument(
        "--name", help="add: the record's name (one run only; default: the run directory's name)"
    )
    p.set_defaults(handler="results:results_command")
