"""Training-time augmentation: how people write outside MNIST, drawn fresh for every batch.

MNIST's writers were American census staff and students with one kind of pen. Other writers slant,
wobble, write taller or wider, press harder or lighter, and a scan or a photo loses bits of a stroke.
Each batch of (N, 28, 28, 1) images in [0, 1] gets, per image:

* one random warp: rotation, slant (shear), scale with a random aspect, shift, plus an elastic
  distortion (a smooth random displacement field), all sampled in a single bilinear pass;
* a thicker or thinner pen for half of the images (grey-level dilation or erosion, blended in);
* a small occlusion for some images: a little square of the digit wiped out;
* a coarse capture for some images: the digit seen through a few pixels only (a small scan, a
  distant photo), shrunk and enlarged again.

Everything is vectorised over the batch and uses stateless random ops, so a seed reproduces it. It
runs in the tf.data pipeline only and is never part of the saved model.
"""

import math

import tensorflow as tf

ROTATE_DEG = 12.0  # uniform in ±ROTATE_DEG
SLANT = 0.3  # horizontal shear, uniform in ±SLANT (±17°): italic and backhand writing
ZOOM, ASPECT = 0.12, 0.12  # scale uniform in 1 ± ZOOM, then width / height uniform in 1 ± ASPECT
SHIFT_PX = 2.5  # uniform in ±SHIFT_PX on each axis
ELASTIC_PX, ELASTIC_GRID = 1.2, 4  # displacement sd at the nodes of a 4×4 grid, smoothly interpolated
OCCLUDE_SHARE, OCCLUDE_PX = 0.25, (3, 6)  # a quarter of the images lose a square 3 to 6 px wide
COARSE_SHARE, COARSE_PX = 0.25, (10, 17)  # a quarter of the images pass through 10 to 16 px (per batch)


def augment(batch: tf.Tensor, seed: tf.Tensor, clean_share: float | tf.Tensor = 0.0) -> tf.Tensor:
    """Randomly warp, re-stroke and occlude a batch of (N, 28, 28, 1) images; seed is a [2] int tensor.
    A random ``clean_share`` of the images is left as it is."""
    warp_seed, elastic_seed, stroke_seed, occlude_seed, coarse_seed, clean_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 6))
    ys, xs = _source_coordinates(tf.shape(batch)[0], tf.shape(batch)[1], warp_seed, elastic_seed)
    out = _stroke(_sample(batch, ys, xs), stroke_seed)
    out = tf.clip_by_value(_coarse(_occlude(out, occlude_seed), coarse_seed), 0.0, 1.0)
    clean = tf.random.stateless_uniform([tf.shape(batch)[0], 1, 1, 1], clean_seed) < clean_share
    return tf.where(clean, batch, out)


def _source_coordinates(n: tf.Tensor, size: tf.Tensor, seed: tf.Tensor, elastic_seed: tf.Tensor) -> tuple:
    """For every output pixel of every image, the (y, x) input position it samples: the inverse of a
    random affine map about the image centre, plus a smooth elastic displacement."""
    u = tf.random.stateless_uniform([n, 6], seed, -1.0, 1.0)
    angle, slant = u[:, 0] * math.radians(ROTATE_DEG), u[:, 1] * SLANT
    scale = 1.0 + u[:, 2] * ZOOM
    scale_x, scale_y = scale * (1.0 + u[:, 3] * ASPECT), scale
    shift_x, shift_y = u[:, 4] * SHIFT_PX, u[:, 5] * SHIFT_PX
    centre = (tf.cast(size, tf.float32) - 1.0) / 2.0
    grid = tf.range(tf.cast(size, tf.float32)) - centre
    gy, gx = tf.meshgrid(grid, grid, indexing="ij")  # output pixel offsets from the centre
    # Undo in reverse order: shift, rotation, slant, scale. Per image: [n, 1, 1] against [size, size].
    def per_image(v: tf.Tensor) -> tf.Tensor:
        return v[:, tf.newaxis, tf.newaxis]

    y, x = gy - per_image(shift_y), gx - per_image(shift_x)
    cos, sin = per_image(tf.cos(angle)), per_image(tf.sin(angle))
    y, x = cos * y - sin * x, sin * y + cos * x
    x = x - per_image(slant) * y
    y, x = y / per_image(scale_y), x / per_image(scale_x)
    field = tf.random.stateless_normal([n, ELASTIC_GRID, ELASTIC_GRID, 2], elastic_seed, stddev=ELASTIC_PX)
    field = tf.image.resize(field, [size, size], method="bicubic")
    return y + centre + field[..., 0], x + centre + field[..., 1]


def _sample(batch: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor) -> tf.Tensor:
    """Bilinear sampling of each image at its own (y, x) positions; outside the image is black."""
    n, h, w = tf.shape(batch)[0], tf.shape(batch)[1], tf.shape(batch)[2]
    padded = tf.reshape(tf.pad(batch[..., 0], [[0, 0], [1, 1], [1, 1]]), [n, -1])  # a black border
    ys = tf.clip_by_value(ys + 1.0, 0.0, tf.cast(h, tf.float32) + 0.999)
    xs = tf.clip_by_value(xs + 1.0, 0.0, tf.cast(w, tf.float32) + 0.999)
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = ys - y0, xs - x0
    row = w + 2
    top_left = tf.reshape(tf.cast(y0, tf.int32) * row + tf.cast(x0, tf.int32), [n, -1])

    def at(offset: int | tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.gather(padded, top_left + offset, batch_dims=1), tf.shape(ys))

    top = at(0) * (1.0 - wx) + at(1) * wx
    bottom = at(row) * (1.0 - wx) + at(row + 1) * wx
    return (top * (1.0 - wy) + bottom * wy)[..., tf.newaxis]


def _stroke(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Grey-level dilation/erosion with a 2×2 window, blended in by a random amount: half the images
    keep their pen, the others get strokes up to about one pixel thicker or thinner."""
    t = tf.random.stateless_uniform([tf.shape(batch)[0], 1, 1, 1], seed, -1.0, 1.0)
    t = tf.where(tf.abs(t) < 0.5, 0.0, (tf.abs(t) - 0.5) * 2.0 * tf.sign(t))
    thick = tf.nn.max_pool2d(batch, 2, 1, "SAME")
    thin = -tf.nn.max_pool2d(-batch, 2, 1, "SAME")
    return batch + tf.maximum(t, 0.0) * (thick - batch) + tf.maximum(-t, 0.0) * (thin - batch)


def _occlude(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Wipe a random square (OCCLUDE_PX) near the digit's middle out of OCCLUDE_SHARE of the images."""
    n, size = tf.shape(batch)[0], tf.shape(batch)[1]
    u = tf.random.stateless_uniform([n, 4], seed)
    side = OCCLUDE_PX[0] + u[:, 0] * (OCCLUDE_PX[1] - OCCLUDE_PX[0])
    span = tf.cast(size, tf.float32) * 0.5  # the square's corner lies in the middle half
    top, left = span * 0.5 + u[:, 1] * span - side / 2, span * 0.5 + u[:, 2] * span - side / 2
    on = tf.cast(u[:, 3] < OCCLUDE_SHARE, tf.float32)
    grid = tf.range(tf.cast(size, tf.float32))

    def inside(start: tf.Tensor) -> tf.Tensor:
        return tf.cast((grid >= start[:, tf.newaxis]) & (grid < (start + side)[:, tf.newaxis]), tf.float32)

    hole = inside(top)[:, :, tf.newaxis] * inside(left)[:, tf.newaxis, :] * on[:, tf.newaxis, tf.newaxis]
    return batch * (1.0 - hole[..., tf.newaxis])


def _coarse(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Shrink COARSE_SHARE of the images to a random side in COARSE_PX (one per batch) and enlarge them
    back: the blurred, blocky strokes of a digit captured with few pixels. The brightest ink is then
    made full again, as preprocessing does with any upload."""
    n, size = tf.shape(batch)[0], tf.shape(batch)[1]
    side = tf.random.stateless_uniform([], seed, COARSE_PX[0], COARSE_PX[1], dtype=tf.int32)
    coarse = tf.image.resize(tf.image.resize(batch, [side, side], method="area"), [size, size], method="bilinear")
    coarse = coarse / tf.maximum(tf.reduce_max(coarse, axis=[1, 2, 3], keepdims=True), 0.1)
    chosen = tf.random.stateless_uniform([n, 1, 1, 1], tf.reverse(seed, [0])) < COARSE_SHARE
    return tf.where(chosen, coarse, batch)
