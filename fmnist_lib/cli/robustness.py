"""`fmnist robustness`: saved models scored on corrupted test images."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "robustness",
        help="accuracy of saved models on corrupted test images",
        description="Score each run's saved model (no training) on corrupted copies of the "
        "test images: noise, blur, contrast, brightness, JPEG, rotation, translation, "
        "occlusion, mirror image and inverted contrast, at severities 1 (mild) to 5, as the "
        "run scored itself (flip TTA when trained with it). Writes one JSON record per run. "
        "The families and their levels are listed in docs/robustness.md.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories (model.keras)")
    p.add_argument("--families", help="comma-separated corruption families (default all)")
    p.add_argument(
        "--severities",
        default="1,2,3,4,5",
        help="comma-separated severities from 0 (the clean images) to 5 (default 1,2,3,4,5)",
    )
    p.add_argument(
        "--test-subset",
        type=int,
        metavar="N",
        help="score a stratified subset of N test images (100 to 10,000; default all)",
    )
    p.add_argument("--seed", type=int, default=0, help="subset and corruption seed (default 0)")
    p.add_argument("--out", help="folder for the records (default results/robustness/)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.set_defaults(handler="robustness:robustness_command")
