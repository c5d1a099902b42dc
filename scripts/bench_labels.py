"""Benchmark: the label PDF for N devices against N bare `qrcode` matrices, in one run.

    .venv/bin/python scripts/bench_labels.py [--devices 1000] [--repeat 3]

The PDF side is what `tracker labels` does: select the devices from a SQLite database,
build each code, draw the sheets, write the PDF. The baseline builds the same payloads'
QR matrices with bare qrcode calls (error correction M, border 4). Goal: ratio <= 2.0.
Each side is timed `--repeat` times and the best time is kept.
"""

import argparse
import os
import sys
import tempfile
import time

GOAL = 2.0


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="tracker-bench-")
    os.environ["TRACKER_INSTANCE_PATH"] = folder
    os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite"

    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    from tracker import create_app
    from tracker.demo.loader import demo_imei
    from tracker.devices.services import register_device
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.labels.services import labels_for
    from tracker.labels.sheets import LAYOUTS, render_labels

    app = create_app({"BASE_URL": "https://tracker.example.org"})
    with app.app_context():
        db.create_all()
        donation = create_donation(
            reference="BENCH-1",
            donor_name="Bench donor",
            received_on=__import__("datetime").date(2020, 12, 28),
            quantity=args.devices,
        )
        for n in range(args.devices):
            register_device(
                donation_id=donation.id,
                serial=f"BENCH{n:08d}",
                imei=demo_imei(n),
                model="MatePad T10",
                actor=None,
            )
        db.session.commit()
        payloads = [label.payload for label in labels_for(device_ids=None, filters=None)]

        def bare_matrices():
            for payload in payloads:
                code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
                code.add_data(payload)
                code.make(fit=True)
                code.get_matrix()

        sizes = []

        def label_pdf():
            from tracker.devices.queries import DeviceFilters

            labels = labels_for(DeviceFilters(donation_id=donation.id))
            sizes.append(len(render_labels(labels, LAYOUTS["a4-3x7"])))

        baseline = best_of(args.repeat, bare_matrices)
        measured = best_of(args.repeat, label_pdf)
    ratio = measured / baseline
    verdict = "PASS" if ratio <= GOAL else "FAIL"
    print(f"devices: {args.devices}, best of {args.repeat}, Python {sys.version.split()[0]}")
    print(f"baseline  bare qrcode matrices     {baseline:8.3f} s")
    print(f"measured  label PDF (a4-3x7)       {measured:8.3f} s   ({sizes[-1] / 1e6:.1f} MB)")
    print(f"ratio     {ratio:.2f}  (goal <= {GOAL})  {verdict}")
    return 0 if verdict == "PASS" else 3


if __name__ == "__main__":
    sys.exit(main())
