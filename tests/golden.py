"""Plain-NumPy reference implementations of the papers' formulas (slow, obvious)."""

import math

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


# --- Large-kernel blocks, transcribed from their official PyTorch code in its own layout:
# tensors NCHW, convolution weights (C_out, C_in / groups, kh, kw), state dicts keyed by
# the official module names. The tests permute the Keras weights into this layout.


def torch_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """`torch.nn.functional.conv2d`: x (B, C_in, H, W), weight (C_out, C_in / groups, kh,
    kw), zero padding `padding` (int or (ph, pw)) on both sides of each axis; output size
    floor((n + 2p − d(k − 1) − 1) / s) + 1."""
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    b, _, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h = (h + 2 * ph - dilation * (kh - 1) - 1) // stride + 1
    out_w = (w + 2 * pw - dilation * (kw - 1) - 1) // stride + 1
    per_group = c_out // groups
    y = np.zeros((b, c_out, out_h, out_w), np.float64)
    for g in range(groups):
        xs = x[:, g * c_group:(g + 1) * c_group]
        ws = weight[g * per_group:(g + 1) * per_group]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dilation:i * dilation + stride * (out_h - 1) + 1:stride,
                           j * dilation:j * dilation + stride * (out_w - 1) + 1:stride]
                y[:, g * per_group:(g + 1) * per_group] += np.einsum("bchw,oc->bohw", patch,
                                                                      ws[:, :, i, j])
    return y if bias is None else y + bias[None, :, None, None]


def torch_conv_transpose2d(x, weight, stride=1):
    """`torch.nn.functional.conv_transpose2d` without padding or groups: x (B, C_in, H,
    W), weight (C_in, C_out, kh, kw); input pixel (h, w) adds weight · x to the output
    window at (h·s, w·s); output size (n − 1)·s + k."""
    b, _, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    y = np.zeros((b, c_out, (h - 1) * stride + kh, (w - 1) * stride + kw), np.float64)
    for i in range(h):
        for j in range(w):
            y[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum(
                "bc,cokl->bokl", x[:, :, i, j], weight)
    return y


def torch_batch_norm_eval(x, bn, eps=1e-5):
    """`nn.BatchNorm2d` in eval mode on NCHW: bn holds weight, bias, running_mean, running_var."""
    def channel(v):
        return v[None, :, None, None]
    return (channel(bn["weight"]) * (x - channel(bn["running_mean"]))
            / np.sqrt(channel(bn["running_var"]) + eps) + channel(bn["bias"]))


def msca_attention_official(x, state, kernel_size=5, strip_kernel_sizes=(7, 11, 21)):
    """SegNeXt's `AttentionModule.forward` (mscan.py): conv0 (k×k depth-wise), for each
    branch i conv{i}_1 (1×k_i) then conv{i}_2 (k_i×1) on conv0's output, all depth-wise
    with bias and padding k//2; attn = conv0 + Σ branches; conv3 (1×1); attn * u."""
    channels = x.shape[1]
    u = x.copy()
    attn = torch_conv2d(x, state["conv0.weight"], state["conv0.bias"],
                        padding=kernel_size // 2, groups=channels)
    total = attn
    for i, k in enumerate(strip_kernel_sizes):
        branch = torch_conv2d(attn, state[f"conv{i}_1.weight"], state[f"conv{i}_1.bias"],
                              padding=(0, k // 2), groups=channels)
        branch = torch_conv2d(branch, state[f"conv{i}_2.weight"], state[f"conv{i}_2.bias"],
                              padding=(k // 2, 0), groups=channels)
        total = total + branch
    attn = torch_conv2d(total, state["conv3.weight"], state["conv3.bias"])
    return attn * u


def replk_conv_official(x, state, kernel_size, small_kernel, stride=1):
    """RepLKNet's `ReparamLargeKernelConv.forward` before merging (eval mode):
    lkb_origin (conv without bias, padding K//2, groups = C, then BN) + small_conv (the
    same with k, padding k//2); `small_kernel=None`: the large branch only."""
    channels = x.shape[1]
    out = torch_batch_norm_eval(
        torch_conv2d(x, state["lkb_origin.conv.weight"], stride=stride,
                     padding=kernel_size // 2, groups=channels),
        _bn(state, "lkb_origin.bn"))
    if small_kernel is not None:
        out = out + torch_batch_norm_eval(
            torch_conv2d(x, state["small_conv.conv.weight"], stride=stride,
                         padding=small_kernel // 2, groups=channels),
            _bn(state, "small_conv.bn"))
    return out


def torch_fuse_bn(weight, bn, eps=1e-5):
    """RepLKNet's `fuse_bn` (a conv without bias, then BN): kernel · γ/std, β − μγ/std."""
    std = np.sqrt(bn["running_var"] + eps)
    t = (bn["weight"] / std).reshape(-1, 1, 1, 1)
    return weight * t, bn["bias"] - bn["running_mean"] * bn["weight"] / std


def replk_equivalent_kernel_bias_official(state, kernel_size, small_kernel):
    """`ReparamLargeKernelConv.get_equivalent_kernel_bias`: both BNs fused, the small
    kernel zero-padded by (K − k)/2 on each side and added; (C, 1, K, K) and (C,)."""
    eq_k, eq_b = torch_fuse_bn(state["lkb_origin.conv.weight"], _bn(state, "lkb_origin.bn"))
    if small_kernel is not None:
        small_k, small_b = torch_fuse_bn(state["small_conv.conv.weight"],
                                         _bn(state, "small_conv.bn"))
        pad = (kernel_size - small_kernel) // 2
        eq_k = eq_k + np.pad(small_k, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        eq_b = eq_b + small_b
    return eq_k, eq_b


# UniRepLKNet's DilatedReparamBlock: kernel_size -> (kernel_sizes, dilates).
UNIREPLKNET_DILATED_TABLE = {
    17: ([5, 9, 3, 3, 3], [1, 2, 4, 5, 7]),
    15: ([5, 7, 3, 3, 3], [1, 2, 3, 5, 7]),
    13: ([5, 7, 3, 3, 3], [1, 2, 3, 4, 5]),
    11: ([5, 5, 3, 3, 3], [1, 2, 3, 4, 5]),
    9: ([5, 5, 3, 3], [1, 2, 3, 4]),
    7: ([5, 3, 3], [1, 2, 3]),
    5: ([3, 3], [1, 2]),
}


def dilated_reparam_official(x, state, kernel_size, kernel_sizes, dilates):
    """`DilatedReparamBlock.forward` before merging (eval mode): origin_bn(lk_origin(x))
    + Σ dil_bn_k{k}_{r}(dil_conv_k{k}_{r}(x)); convs depth-wise without bias, padding
    K//2 and (r(k − 1) + 1)//2, dilation r."""
    channels = x.shape[1]
    out = torch_batch_norm_eval(
        torch_conv2d(x, state["lk_origin.weight"], padding=kernel_size // 2, groups=channels),
        _bn(state, "origin_bn"))
    for k, r in zip(kernel_sizes, dilates):
        conv = torch_conv2d(x, state[f"dil_conv_k{k}_{r}.weight"], padding=(r * (k - 1) + 1) // 2,
                            dilation=r, groups=channels)
        out = out + torch_batch_norm_eval(conv, _bn(state, f"dil_bn_k{k}_{r}"))
    return out


def dilated_reparam_merge_official(state, kernel_size, kernel_sizes, dilates):
    """`DilatedReparamBlock.merge_dilated_branches`: fuse each BN; each dilated kernel made
    non-dilated by `conv_transpose2d(kernel, ones(1, 1, 1, 1), stride=r)` (its taps r
    apart, zeros between), zero-padded by K//2 − span//2 and added; (C, 1, K, K), (C,)."""
    origin_k, origin_b = torch_fuse_bn(state["lk_origin.weight"], _bn(state, "origin_bn"))
    identity = np.ones((1, 1, 1, 1))
    for k, r in zip(kernel_sizes, dilates):
        branch_k, branch_b = torch_fuse_bn(state[f"dil_conv_k{k}_{r}.weight"],
                                           _bn(state, f"dil_bn_k{k}_{r}"))
        equivalent = torch_conv_transpose2d(branch_k, identity, stride=r)  # (C, 1, span, span)
        pad = kernel_size // 2 - (r * (k - 1) + 1) // 2
        origin_k = origin_k + np.pad(equivalent, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        origin_b = origin_b + branch_b
    return origin_k, origin_b


def _bn(state, prefix):
    return {key: state[f"{prefix}.{key}"]
            for key in ("weight", "bias", "running_mean", "running_var")}


# --- SegNeXt: MSCAN (mscan.py) and the Hamburger's NMF2D (ham_head.py), official layout.


def torch_gelu(x):
    """`nn.GELU()` (exact): x·Φ(x) = x/2 · (1 + erf(x/√2))."""
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def torch_layer_norm_channels(x, weight, bias, eps=1e-5):
    """MSCAN's `nn.LayerNorm(C)` over the channels of each pixel, on NCHW."""
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight[None, :, None, None] \
        + bias[None, :, None, None]


def mscan_attention_half_official(x, state, prefix, strip_kernel_sizes=(7, 11, 21)):
    """The first half of `Block.forward` in eval mode (drop path is the identity):
    x + ls1·SA(BN(x)); SA(u) = proj_2(MSCA(GELU(proj_1(u)))) + u (`SpatialAttention`)."""
    def p(name):
        return state[f"{prefix}.{name}"]
    u = torch_batch_norm_eval(x, _bn(state, f"{prefix}.norm1"))
    a = torch_gelu(torch_conv2d(u, p("attn.proj_1.weight"), p("attn.proj_1.bias")))
    unit = {key[len(f"{prefix}.attn.spatial_gating_unit."):]: value
            for key, value in state.items()
            if key.startswith(f"{prefix}.attn.spatial_gating_unit.")}
    a = msca_attention_official(a, unit, strip_kernel_sizes=strip_kernel_sizes)
    a = torch_conv2d(a, p("attn.proj_2.weight"), p("attn.proj_2.bias")) + u
    return x + p("layer_scale_1")[None, :, None, None] * a


def mscan_block_official(x, state, prefix):
    """`Block.forward` in eval mode (drop path is the identity): x + ls1·SA(BN(x)),
    then x + ls2·MLP(BN(x)); SA(u) = proj_2(MSCA(GELU(proj_1(u)))) + u; MLP(u) =
    fc2(GELU(dwconv3×3(fc1(u))))."""
    def p(name):
        return state[f"{prefix}.{name}"]
    x = mscan_attention_half_official(x, state, prefix)
    m = torch_batch_norm_eval(x, _bn(state, f"{prefix}.norm2"))
    m = torch_conv2d(m, p("mlp.fc1.weight"), p("mlp.fc1.bias"))
    m = torch_conv2d(m, p("mlp.dwconv.dwconv.weight"), p("mlp.dwconv.dwconv.bias"),
                     padding=1, groups=m.shape[1])
    m = torch_conv2d(torch_gelu(m), p("mlp.fc2.weight"), p("mlp.fc2.bias"))
    return x + p("layer_scale_2")[None, :, None, None] * m


def mscan_official(x, state, depths):
    """`MSCAN.forward` in eval mode: the four stage outputs (NCHW). Stage 1 embeds with
    StemConv (3×3/2 conv, BN, GELU, 3×3/2 conv, BN), the others with OverlapPatchEmbed
    (3×3/2 conv, BN); every strided conv pads 1 on each side; LayerNorm ends each stage."""
    outputs = []
    for stage, depth in enumerate(depths, start=1):
        if stage == 1:
            x = torch_conv2d(x, state["patch_embed1.proj.0.weight"],
                             state["patch_embed1.proj.0.bias"], stride=2, padding=1)
            x = torch_gelu(torch_batch_norm_eval(x, _bn(state, "patch_embed1.proj.1")))
            x = torch_conv2d(x, state["patch_embed1.proj.3.weight"],
                             state["patch_embed1.proj.3.bias"], stride=2, padding=1)
            x = torch_batch_norm_eval(x, _bn(state, "patch_embed1.proj.4"))
        else:
            x = torch_conv2d(x, state[f"patch_embed{stage}.proj.weight"],
                             state[f"patch_embed{stage}.proj.bias"], stride=2, padding=1)
            x = torch_batch_norm_eval(x, _bn(state, f"patch_embed{stage}.norm"))
        for j in range(depth):
            x = mscan_block_official(x, state, f"block{stage}.{j}")
        x = torch_layer_norm_channels(x, state[f"norm{stage}.weight"],
                                      state[f"norm{stage}.bias"])
        outputs.append(x)
    return outputs


def nmf2d_official(x, bases, steps, eps=1e-6):
    """`NMF2D.forward` (S = 1, inv_t = 1) from given starting bases: x (B, C, H, W),
    bases (B, C, R); coef = softmax(xᵀ bases); `steps` of `local_step` (coef then
    bases, multiplicative); `compute_coef`; bases · coefᵀ. Returns (output, bases, coef)
    with the factors before the last coefficient update."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h * w)
    xt = x.transpose(0, 2, 1)
    logits = xt @ bases
    coef = np.exp(logits - logits.max(-1, keepdims=True))
    coef = coef / coef.sum(-1, keepdims=True)
    for _ in range(steps):
        coef = coef * (xt @ bases) / (coef @ (bases.transpose(0, 2, 1) @ bases) + eps)
        bases = bases * (x @ coef) / (bases @ (coef.transpose(0, 2, 1) @ coef) + eps)
    final = coef * (xt @ bases) / (coef @ (bases.transpose(0, 2, 1) @ bases) + eps)
    return (bases @ final.transpose(0, 2, 1)).reshape(b, c, h, w), bases, coef
