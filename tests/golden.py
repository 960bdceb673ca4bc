"""Plain-NumPy reference implementations of the papers' formulas (slow, obvious)."""

import numpy as np


def same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding: (before, after, output size)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def conv2d(x, kernel, bias=None, stride=1):
    """'Same' convolution, x (B,H,W,C), kernel (kh,kw,C,F): loops over the taps."""
    kh, kw, _, f = kernel.shape
    b, h, w, _ = x.shape
    top, _, out_h = same_padding(h, kh, stride)
    left, _, out_w = same_padding(w, kw, stride)
    y = np.zeros((b, out_h, out_w, f), np.float64)
    for i in range(kh):
        for j in range(kw):
            for oh in range(out_h):
                ih = oh * stride + i - top
                if not 0 <= ih < h:
                    continue
                for ow in range(out_w):
                    iw = ow * stride + j - left
                    if 0 <= iw < w:
                        y[:, oh, ow] += x[:, ih, iw] @ kernel[i, j]
    return y if bias is None else y + bias


def depthwise_conv2d(x, kernel, stride):
    """'Same' depthwise convolution, kernel (kh,kw,C,1)."""
    c = x.shape[-1]
    out = [conv2d(x[..., ch : ch + 1], kernel[:, :, ch : ch + 1, :], stride=stride) for ch in range(c)]
    return np.concatenate(out, axis=-1)


def resize_bilinear(x, out_h, out_w):
    """Bilinear resize with half-pixel centres (tf.image.resize, no antialias)."""

    def axis_weights(size_in, size_out):
        src = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
        src = np.clip(src, 0, size_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, size_in - 1)
        return lo, hi, src - lo

    lo_h, hi_h, fh = axis_weights(x.shape[1], out_h)
    lo_w, hi_w, fw = axis_weights(x.shape[2], out_w)
    rows = x[:, lo_h] * (1 - fh)[None, :, None, None] + x[:, hi_h] * fh[None, :, None, None]
    return rows[:, :, lo_w] * (1 - fw)[None, None, :, None] + rows[:, :, hi_w] * fw[None, None, :, None]


def average_pool_same(x, d):
    """d×d average pooling, stride d, 'same' padding averaging only real pixels."""
    b, h, w, c = x.shape
    top, _, out_h = same_padding(h, d, d)
    left, _, out_w = same_padding(w, d, d)
    y = np.zeros((b, out_h, out_w, c))
    for oh in range(out_h):
        for ow in range(out_w):
            h0, w0 = max(oh * d - top, 0), max(ow * d - left, 0)
            h1, w1 = min(oh * d - top + d, h), min(ow * d - left + d, w)
            y[:, oh, ow] = x[:, h0:h1, w0:w1].mean(axis=(1, 2))
    return y


def global_conv(x, w):
    """GCN Fig. 2B: conv_1xk(conv_kx1(x)) + conv_kx1(conv_1xk(x)), w: dict of kernels/biases."""
    left = conv2d(conv2d(x, w["left_kx1_kernel"], w.get("left_kx1_bias")), w["left_1xk_kernel"], w.get("left_1xk_bias"))
    right = conv2d(conv2d(x, w["right_1xk_kernel"], w.get("right_1xk_bias")), w["right_kx1_kernel"], w.get("right_kx1_bias"))
    return left + right


def boundary_refine(s, w):
    """GCN Fig. 2C: S + conv3x3(ReLU(conv3x3(S)))."""
    hidden = np.maximum(conv2d(s, w["conv1_kernel"], w["conv1_bias"]), 0)
    return s + conv2d(hidden, w["conv2_kernel"], w["conv2_bias"])


def local_distribution(f, kernels=(), downsample="depthwise", rate=8):
    """GALD Eq. (1)-(2): M = sigmoid(up(W_d F)); F' = M*F + F."""
    h, w = f.shape[1:3]
    if downsample == "depthwise":
        coarse = f
        for kernel in kernels:
            coarse = depthwise_conv2d(coarse, kernel, stride=2)
    elif downsample == "bilinear":
        coarse = resize_bilinear(f, -(-h // rate), -(-w // rate))
    else:
        coarse = average_pool_same(f, rate)
    mask = 1 / (1 + np.exp(-resize_bilinear(coarse, h, w)))
    return mask * f + f


def ohem_loss(labels, logits, mode, threshold, min_kept, per_image=True, ignore_label=255):
    """Both OHEM rules with explicit sorting; mean CE over kept pixels, 0 if none."""
    labels = labels.reshape(labels.shape[0], -1)
    logits = logits.reshape(logits.shape[0], -1, logits.shape[-1]).astype(np.float64)
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    groups = range(labels.shape[0]) if per_image else [slice(None)]
    total, count = 0.0, 0
    for g in groups:
        lab, lp = labels[g].reshape(-1), log_probs[g].reshape(-1, logits.shape[-1])
        valid = lab != ignore_label
        idx = np.flatnonzero(valid)
        ce = -lp[idx, lab[idx]]
        p = np.exp(-ce)
        if len(p) < min_kept:
            keep = np.ones_like(p, bool)
        else:
            p_k = np.sort(p)[min_kept - 1]
            if mode == "fcrn":
                keep = (p < threshold) | (p <= p_k)
            else:
                keep = p <= max(threshold, p_k)
        total += ce[keep].sum()
        count += keep.sum()
    return total / count if count else 0.0


# --- GALD's official LocalAttenModule (github.com/lxtGH/GALD-Net), transcribed in NHWC ---


def depthwise_conv2d_valid(x, kernel, bias, stride):
    """PyTorch `Conv2d(C, C, k, stride, padding=0, groups=C, bias=True)`, x (B,H,W,C),
    kernel (k,k,C,1), bias (C,): no padding, output floor((n - k) / stride) + 1."""
    kh, kw = kernel.shape[:2]
    b, h, w, c = x.shape
    out_h, out_w = (h - kh) // stride + 1, (w - kw) // stride + 1
    y = np.zeros((b, out_h, out_w, c), np.float64)
    for oh in range(out_h):
        for ow in range(out_w):
            patch = x[:, oh * stride : oh * stride + kh, ow * stride : ow * stride + kw, :]
            y[:, oh, ow] = np.einsum("bijc,ijc->bc", patch, kernel[..., 0])
    return y + bias


def batch_norm_inference(x, gamma, beta, mean, variance, epsilon):
    """BatchNorm2d in eval mode: gamma * (x - running_mean) / sqrt(running_var + eps) + beta."""
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def resize_bilinear_align_corners(x, out_h, out_w):
    """`F.interpolate(x, (out_h, out_w), mode="bilinear", align_corners=True)` in NHWC:
    output index i reads input position i * (n_in - 1) / (n_out - 1) (0 if n_out = 1)."""

    def axis_weights(size_in, size_out):
        scale = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        src = np.arange(size_out) * scale
        lo = np.minimum(np.floor(src).astype(int), size_in - 1)
        hi = np.minimum(lo + 1, size_in - 1)
        return lo, hi, src - lo

    lo_h, hi_h, fh = axis_weights(x.shape[1], out_h)
    lo_w, hi_w, fw = axis_weights(x.shape[2], out_w)
    rows = x[:, lo_h] * (1 - fh)[None, :, None, None] + x[:, hi_h] * fh[None, :, None, None]
    return rows[:, :, lo_w] * (1 - fw)[None, None, :, None] + rows[:, :, hi_w] * fw[None, None, :, None]


def local_distribution_official(f, stages, epsilon=1e-5):
    """`LocalAttenModule.forward` in eval mode: dconv1..3 (depthwise conv with bias, no
    padding, stride 2 -> BatchNorm2d(eps 1e-5) -> ReLU), bilinear upsampling to (h, w)
    with align_corners=True, sigmoid, `res2 + res1 * x_mask` (= F + M * F, GALD Eq. 2).

    `stages`: one dict per stage with "kernel" (k,k,C,1), "bias", "gamma", "beta",
    "mean", "variance" (C,).
    """
    h, w = f.shape[1:3]
    x = f
    for stage in stages:
        x = depthwise_conv2d_valid(x, stage["kernel"], stage["bias"], stride=2)
        x = batch_norm_inference(x, stage["gamma"], stage["beta"], stage["mean"],
                                 stage["variance"], epsilon)
        x = np.maximum(x, 0.0)
    mask = 1 / (1 + np.exp(-resize_bilinear_align_corners(x, h, w)))
    return f + f * mask
