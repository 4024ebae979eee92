"""Layers this project adds to Keras."""

from __future__ import annotations

import keras

# The input dtypes TensorFlow's fused kernel takes on a CPU, with oneDNN and
# without (TF 2.21); its weights and statistics stay float32 with each of them,
# so 16-bit inputs need no cast to float32 and back.
_FUSED_INPUT_DTYPES = ("float32", "bfloat16", "float16")


@keras.saving.register_keras_serializable(package="fmnist")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' ``BatchNormalization``, computed by TensorFlow's fused kernel.

    Keras 3 computes batch norm on TensorFlow as separate ops (moments, then the
    normalisation), where tf.keras 2 called the fused kernel (``FusedBatchNormV3``,
    oneDNN on x86 CPUs); on a CPU the unfused layer nearly halves VGG's bf16
    training throughput. This layer has the same arguments, weights and moving
    statistics as Keras' layer and calls the fused kernel for the cases it fits:
    the TensorFlow backend, ``axis=-1`` on 2-D or 4-D (NHWC) float32, bfloat16 or
    float16 inputs with float32 weights, no mask, renorm or synchronisation.
    Anything else, and every other backend, runs Keras' own code.
    """

    def _fusable(self, inputs, mask) -> bool:
        ndim = len(inputs.shape)
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.renorm
            and not self.synchronized
            and ndim in (2, 4)
            and self.axis in (-1, ndim - 1)
            and keras.backend.standardize_dtype(inputs.dtype) in _FUSED_INPUT_DTYPES
            and keras.backend.standardize_dtype(self.moving_mean.dtype) == "float32"
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf  # TensorFlow: the fused kernel runs only on its backend

        channels = inputs.shape[-1]
        x = tf.reshape(inputs, (-1, 1, 1, channels)) if len(inputs.shape) == 2 else inputs
        ones = tf.ones((channels,), tf.float32)
        scale = tf.convert_to_tensor(self.gamma) if self.scale else ones
        offset = tf.convert_to_tensor(self.beta) if self.center else tf.zeros_like(ones)
        if training and self.trainable:
            empty = tf.zeros((0,), tf.float32)
            y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x,
                scale=scale,
                offset=offset,
                mean=empty,
                variance=empty,
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=True,
            )
            # The kernel returns the Bessel-corrected variance n/(n-1) (for its own
            # moving average); Keras 3 averages the biased one: undo the factor so
            # the moving statistics match Keras' layer.
            count = tf.cast(tf.size(x, out_type=tf.int64), tf.float32) / channels
            variance = variance * tf.maximum(count - 1.0, 1.0) / tf.maximum(count, 1.0)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            y, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x,
                scale=scale,
                offset=offset,
                mean=tf.convert_to_tensor(self.moving_mean),
                variance=tf.convert_to_tensor(self.moving_variance),
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=False,
            )
        if len(inputs.shape) == 2:
            y = tf.reshape(y, tf.shape(inputs))
        return tf.cast(y, self.compute_dtype)
