"""Speed rewrites that edit an exported ONNX file: nodes replaced by ones that compute
the same numbers faster in onnxruntime.

Each pass's rule, and where it was measured (the figures: benchmarks/README.md):

- ``"depth_to_space"``: a ``DepthToSpace`` fed by a constant-weight ``Conv`` (the phase
  deconvolution of `keras_lk.export.layer_rewrites`) as a grouped 0/1 ``ConvTranspose``,
  its 3×3 phase kernel as 2×2 (`depth_to_space_as_deconvolution`; AVX-512 and AVX2).
- ``"dilated_classifier"``: a dilated convolution to at most `TAP_SUM_MAX_OUTPUTS`
  outputs from at least `TAP_SUM_MIN_INPUTS` inputs (FCRN's classifier) as a 1×1
  convolution to taps × outputs, shifts and a sum (`dilated_classifier_as_tap_sum`;
  faster on AVX-512, slower on AVX2).
"""

from __future__ import annotations

# Which convolutions "dilated_classifier" rewrites: dilated, to at most this many outputs
# (classes) from at least this many input channels. Measured on FCRN-101's 5×5 d12
# classifier (2048 → 21); below 512 inputs the shifted copies weigh more against the
# convolution, and it was not measured there.
TAP_SUM_MAX_OUTPUTS, TAP_SUM_MIN_INPUTS = 32, 512


def node_attributes(node):
    """An ONNX node's attributes as ``{name: value}``."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def set_node_attributes(node, **attributes):
    """Replaces (or adds) `node`'s attributes, and drops ``auto_pad`` (explicit pads)."""
    from onnx import helper

    kept = [a for a in node.attribute if a.name not in attributes and a.name != "auto_pad"]
    del node.attribute[:]
    node.attribute.extend(kept + [helper.make_attribute(k, v) for k, v in attributes.items()])


def _is_same_padded(attributes, kernel_shape):
    """Whether an ONNX ``Conv`` of stride 1 and odd `kernel_shape` is padded to keep its
    input's size ("same"): by ``dilation · (k − 1) / 2`` on every side, as ``pads`` or as
    ``auto_pad`` SAME."""
    half = [d * (k - 1) // 2
            for d, k in zip(attributes.get("dilations", [1, 1]), kernel_shape)]
    return (list(attributes.get("pads", [])) == half + half
            or attributes.get("auto_pad") in (b"SAME_UPPER", b"SAME_LOWER"))


def _is_same_3x3_convolution(attributes):
    """An ONNX ``Conv`` of kernel 3×3, stride 1, no dilation or groups, padded by one
    pixel on every side (`_is_same_padded`)."""
    return (list(attributes.get("kernel_shape", [])) == [3, 3]
            and list(attributes.get("strides", [1, 1])) == [1, 1]
            and list(attributes.get("dilations", [1, 1])) == [1, 1]
            and attributes.get("group", 1) == 1
            and _is_same_padded(attributes, [3, 3]))


def _two_by_two_phase_kernel(kernel):
    """The 2×2 kernel of a class-major phase kernel ``(4·C, C_in, 3, 3)`` (channel
    ``4c + 2a + b``: row phase a, column phase b), or None if it has weights outside it.

    Phase a reads the input rows at offsets (−1, 0) if a = 0 and (0, +1) if a = 1
    (`_PHASE_TAPS`): taps a and a + 1 of the 3×3 kernel, likewise for columns. On the
    input padded by one pixel, a 2×2 convolution computes phase a of output row i at
    its row i + a, where the placing transposed convolution reads it
    (`depth_to_space_as_deconvolution`)."""
    import numpy as np

    phases = np.arange(kernel.shape[0]) % 4
    rows, columns = phases // 2, phases % 2
    window = np.zeros((kernel.shape[0], 1, 3, 3), bool)
    for a in range(2):
        for b in range(2):
            window[(rows == a) & (columns == b), :, a:a + 2, b:b + 2] = True
    if np.any(kernel[np.broadcast_to(~window, kernel.shape)]):
        return None
    return np.stack([kernel[o, :, rows[o]:rows[o] + 2, columns[o]:columns[o] + 2]
                     for o in range(kernel.shape[0])])


def depth_to_space_as_deconvolution(graph):
    """Rewrites the ONNX `graph` in place: each ``DepthToSpace`` (block 2, DCR) fed only
    by a ``Conv`` with constant weights becomes a ``ConvTranspose`` (kernel 2, stride 2, one
    group per output channel, weights 0 or 1) that places each input channel's pixels
    where the depth-to-space would, and the ``Conv``'s output channels are reordered to
    match (class-major, CRD). The numbers are the same (x·1 + 0 + 0 + 0); onnxruntime
    runs DepthToSpace element by element, several times slower than the ConvTranspose
    (benchmarks/README.md). Other DepthToSpace nodes stay as they are.

    Where the ``Conv`` is a 3×3 phase kernel (`phase_kernel`: each phase reads only a
    2×2 window of its 3×3 taps), it becomes a 2×2 convolution on the input padded by
    one pixel, 4/9 of the multiply-adds, and the ConvTranspose places each phase from
    its own offset (``pads`` 1): the same numbers again.

    Returns:
        The number of nodes rewritten.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    producers = {name: node for node in graph.node for name in node.output}
    readers = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for output in graph.output:
        readers[output.name] = readers.get(output.name, 0) + 1
    constants = {tensor.name: tensor for tensor in graph.initializer}
    rewritten = 0
    for index, node in enumerate(graph.node):
        attributes = node_attributes(node)
        conv = producers.get(node.input[0]) if node.op_type == "DepthToSpace" else None
        if (conv is None or conv.op_type != "Conv" or attributes.get("blocksize") != 2
                or attributes.get("mode", b"DCR") != b"DCR" or readers[node.input[0]] != 1
                or not all(name in constants for name in conv.input[1:] if name)):
            continue
        conv_attributes = node_attributes(conv)
        # Conv output channel p·C + c (phase p = 2a + b, class c) moves to c·4 + p.
        arrays = {}
        for position, name in enumerate(conv.input[1:], start=1):
            if name:
                array = numpy_helper.to_array(constants[name])
                classes = array.shape[0] // 4
                order = (np.arange(4)[None, :] * classes + np.arange(classes)[:, None])
                arrays[position] = array[order.ravel()]
        small = (_two_by_two_phase_kernel(arrays[1])
                 if _is_same_3x3_convolution(conv_attributes) else None)
        if small is not None:
            arrays[1] = small
            set_node_attributes(conv, kernel_shape=[2, 2], pads=[1, 1, 1, 1])
        for position, array in arrays.items():
            reordered = numpy_helper.from_array(array, f"{conv.name}/class_major_{position}")
            graph.initializer.append(reordered)
            conv.input[position] = reordered.name
        # Phase (a, b) of pixel (i, j) goes to (2i + a, 2j + b): from tap (a, b); with the
        # 2×2 kernel it sits at (i + a, j + b), so from tap (1 − a, 1 − b), cropped by one.
        shift = 0 if small is None else 1
        placement = np.zeros((4 * classes, 1, 2, 2), "float32")
        for c in range(classes):
            for a in range(2):
                for b in range(2):
                    placement[4 * c + 2 * a + b, 0, abs(shift - a), abs(shift - b)] = 1.0
        weights = numpy_helper.from_array(placement, f"{node.name}/placement")
        graph.initializer.append(weights)
        graph.node[index].CopyFrom(helper.make_node(
            "ConvTranspose", [node.input[0], weights.name], list(node.output), name=node.name,
            group=classes, kernel_shape=[2, 2], strides=[2, 2], pads=[shift] * 4))
        rewritten += 1
    return rewritten


def is_tap_sum_convolution(outputs, inputs, kernel_size, dilations, strides, groups):
    """A convolution that "dilated_classifier" rewrites: stride 1, no groups, dilated, a
    kernel larger than 1×1 and of odd sizes, few outputs from many inputs."""
    return (groups == 1 and all(s == 1 for s in strides) and any(d > 1 for d in dilations)
            and all(k % 2 == 1 for k in kernel_size) and max(kernel_size) > 1
            and outputs <= TAP_SUM_MAX_OUTPUTS and inputs >= TAP_SUM_MIN_INPUTS)


def dilated_classifier_as_tap_sum(graph):
    """Rewrites the ONNX `graph` in place: each dilated ``Conv`` to few outputs
    (`is_tap_sum_convolution`, FCRN's large field-of-view classifier) with constant
    weights and "same" padding becomes one 1×1 ``Conv`` to taps × outputs channels, one
    ``Pad`` per tap that takes the tap's channels and shifts them by its offset (negative
    pads crop, positive pads fill zeros: exactly the zero padding of the convolution, at
    any size, even one smaller than the offset), and a ``Sum`` with the bias. The
    multiply-adds are the same, in another order (logits within 1e-6 on FCRN-101).

    onnxruntime pads a 21-output convolution to 32 channels on AVX-512 and runs the
    dilated kernel at about half its 1×1 rate (benchmarks/README.md). Other convolutions
    stay as they are.

    Returns:
        The number of nodes rewritten.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    constants = {tensor.name: tensor for tensor in graph.initializer}
    nodes, rewritten = [], 0
    for node in graph.node:
        attributes = node_attributes(node)
        weights = (numpy_helper.to_array(constants[node.input[1]])
                   if node.op_type == "Conv" and node.input[1] in constants else None)
        bias_name = node.input[2] if len(node.input) > 2 else ""
        if (weights is None or weights.ndim != 4 or (bias_name and bias_name not in constants)
                or not is_tap_sum_convolution(
                    weights.shape[0], weights.shape[1], weights.shape[2:],
                    attributes.get("dilations", [1, 1]), attributes.get("strides", [1, 1]),
                    attributes.get("group", 1))):
            nodes.append(node)
            continue
        outputs, inputs, height, width = weights.shape
        if not _is_same_padded(attributes, (height, width)):
            nodes.append(node)
            continue
        dilation_h, dilation_w = attributes.get("dilations", [1, 1])
        half_h, half_w = dilation_h * (height - 1) // 2, dilation_w * (width - 1) // 2
        taps = height * width
        # Channel t·outputs + o of the 1×1 convolution: tap t = (row, column), output o.
        one_by_one = weights.transpose(2, 3, 0, 1).reshape(taps * outputs, inputs, 1, 1)
        tapped = f"{node.name}/taps"
        graph.initializer.append(numpy_helper.from_array(one_by_one, f"{tapped}/kernel"))
        nodes.append(helper.make_node("Conv", [node.input[0], f"{tapped}/kernel"], [tapped],
                                      name=tapped, kernel_shape=[1, 1]))
        terms = []
        for tap in range(taps):
            # Output (i, j) reads tap (row, column) at (i + dy, j + dx).
            dy = (tap // width) * dilation_h - half_h
            dx = (tap % width) * dilation_w - half_w
            pads = [0, -tap * outputs, -dy, -dx, 0, -(taps - 1 - tap) * outputs, dy, dx]
            name = f"{tapped}/shift_{tap}"
            graph.initializer.append(numpy_helper.from_array(np.array(pads, np.int64),
                                                             f"{name}/pads"))
            nodes.append(helper.make_node("Pad", [tapped, f"{name}/pads"], [name], name=name))
            terms.append(name)
        if bias_name:
            bias = numpy_helper.to_array(constants[bias_name]).reshape(1, outputs, 1, 1)
            graph.initializer.append(numpy_helper.from_array(bias, f"{tapped}/bias"))
            terms.append(f"{tapped}/bias")
        nodes.append(helper.make_node("Sum", terms, list(node.output), name=node.name))
        rewritten += 1
    if rewritten:
        del graph.node[:]
        graph.node.extend(nodes)
    return rewritten


# The rewrites that edit the ONNX file, in the order they run.
ONNX_PASSES = {"depth_to_space": depth_to_space_as_deconvolution,
                "dilated_classifier": dilated_classifier_as_tap_sum}


def rewrite_onnx_file(path, rewrites):
    """Runs the passes of `ONNX_PASSES` named in `rewrites` on the ONNX file at `path`:
    one load, one save (only if a node changed), without the initializers the rewritten
    nodes no longer read (tf2onnx shares equal constants, so only unread ones go).

    Returns:
        The number of nodes rewritten.
    """
    import onnx

    model = onnx.load(path)
    graph = model.graph
    rewritten = sum(rewrite(graph) for name, rewrite in ONNX_PASSES.items()
                    if name in rewrites)
    if rewritten:
        used = {name for node in graph.node for name in node.input}
        keep = [tensor for tensor in graph.initializer if tensor.name in used]
        del graph.initializer[:]
        graph.initializer.extend(keep)
        onnx.save(model, path)
    return rewritten
