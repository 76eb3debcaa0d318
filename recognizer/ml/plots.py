"""The model card's two pictures: training curves and the confusion matrix."""

from pathlib import Path

import numpy as np


def plot_curves(history: dict[str, list[float]], path: Path) -> None:
    """Loss and error rate per epoch, on the (augmented) training images and the held-out ones."""
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    error = {key: [1.0 - a for a in history[key]] for key in ("accuracy", "val_accuracy")}
    fig, (loss_ax, error_ax) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, train_values, held_out_values, title in (
        (loss_ax, history["loss"], history["val_loss"], "loss (cross-entropy)"),
        (error_ax, error["accuracy"], error["val_accuracy"], "error rate (1 - accuracy)"),
    ):
        ax.plot(epochs, train_values, "o-", label="training images (augmented)")
        ax.plot(epochs, held_out_values, "o-", label="held-out training images (validation)")
        ax.set(xlabel="epoch", yscale="log", title=title)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(confusion: list[list[int]], accuracy: float, path: Path) -> None:
    """True against predicted digit on the test images, counts on a log colour scale."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    matrix = np.array(confusion)
    digits = range(len(matrix))
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    image = ax.imshow(np.maximum(matrix, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=matrix.max()))
    for (true, predicted), count in np.ndenumerate(matrix):
        if count:
            ax.text(predicted, true, count, ha="center", va="center", fontsize=8,
                    color="white" if true == predicted else "black")
    ax.set(xticks=digits, yticks=digits, xlabel="predicted digit", ylabel="true digit",
           title=f"Confusion matrix on the {matrix.sum():,} test images (accuracy {accuracy:.2%})")
    fig.colorbar(image, ax=ax, label="images (log scale)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
