"""What a person sees while `train` runs: a progress bar per epoch on a terminal, a line per epoch
otherwise (a log file, CI), each with the time left for the whole run."""

import time
from typing import TextIO

import keras

BAR_WIDTH = 30
REDRAW_SECONDS = 0.25
START_OF_LINE, CLEAR_TO_END = "\r", "\033[K"  # terminal controls: redraw the current line


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`: how long, for people."""
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


class Progress(keras.callbacks.Callback):
    """Reports fitting progress to ``stream`` and records each epoch's seconds in ``epoch_seconds``."""

    def __init__(self, stream: TextIO, *, epochs: int, steps: int) -> None:
        super().__init__()
        self.stream, self.epochs, self.steps = stream, epochs, steps
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self.epoch_seconds: list[float] = []
        self._drawn = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._started = epoch, time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = time.monotonic()
        if not self.live or now - self._drawn < REDRAW_SECONDS:
            return
        self._drawn = now
        done = (batch + 1) / self.steps
        per_epoch = (now - self._started) / done
        left_in_epoch = per_epoch * (1 - done)
        filled = round(BAR_WIDTH * done)
        self.stream.write(
            f"{START_OF_LINE}{self._label()} [{'=' * filled}{' ' * (BAR_WIDTH - filled)}] {done:4.0%}"
            f"  loss {logs['loss']:.4f}  {duration(left_in_epoch + self._later_epochs(per_epoch))} left{CLEAR_TO_END}"
        )
        self.stream.flush()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.monotonic() - self._started
        self.epoch_seconds.append(seconds)
        typical = sum(self.epoch_seconds) / len(self.epoch_seconds)
        left = self._later_epochs(typical)
        line = (f"{self._label()}: loss {logs['loss']:.4f}, validation accuracy {logs['val_accuracy']:.2%}, "
                f"{duration(seconds)}" + (f", about {duration(left)} left" if left else ""))
        self.stream.write(f"{START_OF_LINE}{line}{CLEAR_TO_END}\n" if self.live else f"{line}\n")
        self.stream.flush()

    def _label(self) -> str:
        return f"epoch {self._epoch + 1}/{self.epochs}"

    def _later_epochs(self, per_epoch: float) -> float:
        return per_epoch * (self.epochs - self._epoch - 1)
