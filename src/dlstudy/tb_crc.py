"""TensorBoard's event files with their checksums computed in C.

Without TensorFlow, TensorBoard's writer checksums every record (CRC-32C of its length and of its bytes) in a
Python loop over the bytes (tensorboard.compat.tensorflow_stub.pywrap_tensorflow): about 120 µs per KB on the
machine of docs/benchmarks.md. A histogram record is about 1.3 KB, and the writer's thread holds the GIL while
it sums, so the training loop waits: with a small net, about 12 µs of each optimizer step. `install()` has the
record writer use google-crc32c's C implementation instead; the files are the same, byte for byte
(tests/test_tb_crc.py), and TensorBoard's reader still checks every record with its own code.
"""

import google_crc32c
from tensorboard.summary.writer import record_writer

MASK = 0xFFFFFFFF
_tensorboard_crc = record_writer.masked_crc32c  # TensorBoard's own, put back by uninstall()


def masked_crc32c(data: bytes) -> int:
    """TensorBoard's masked CRC-32C of `data` (the TFRecord format's), from the C checksum."""
    x = google_crc32c.value(bytes(data))
    return (((x >> 15) | (x << 17) & MASK) + 0xA282EAD8) & MASK


def install() -> None:
    """Every record written from now on, in this process, is checksummed in C (idempotent). Where google-crc32c
    could only load its pure-Python fallback, TensorBoard's own code is kept."""
    if google_crc32c.implementation == "c":
        record_writer.masked_crc32c = masked_crc32c


def uninstall() -> None:
    record_writer.masked_crc32c = _tensorboard_crc
