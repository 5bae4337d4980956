"""The computational graphs of the course, laid out by hand: the encoder-decoder with attention
unrolled (chapter 1), the LSTM step, BPTT over three steps, the Bahdanau decoder step and the
Luong decoder step.

Each function returns ``(nodes, edges, title, note)`` for :func:`minatt.tools.figures.draw.graph_figure`.
The graphs follow the code they picture (minatt/ops/lstm.py, minatt/model/decoders.py) line by
line; a node whose value is used twice is found from the edges, and in the code it is exactly
where backward adds two gradients (``dc_t = dc + ...`` in lstm_cell_backward, ``ds_prev + dq``
and ``do[:, H:] + dz`` in BahdanauDecoder.step_backward, ``dh_next + dcat[:, K:]`` and
``dq`` and ``do + dfeed_next`` in LuongDecoder.step_backward).
"""

from __future__ import annotations

from minatt.tools.figures.draw import Node

__all__ = ["GRAPHS", "bahdanau_step_graph", "bptt_graph", "encoder_decoder_graph", "lstm_step_graph",
           "luong_step_graph"]


def encoder_decoder_graph() -> tuple:
    """The encoder-decoder with (Bahdanau) attention unrolled: four source tokens, three outputs.

    Encoder below, decoder above: every decoder step t scores all encoder outputs h_s against its
    previous state s_{t-1}, averages them into c_t, and steps its cell on c_t and y_{t-1}."""
    S, T = 4, 3
    nodes = [Node(f"x{s}", f"x_{s}", 2.2 * (s - 1), 0.0, "input") for s in range(1, S + 1)]
    nodes += [Node(f"h{s}", f"h_{s}", 2.2 * (s - 1), 1.6) for s in range(1, S + 1)]
    edges = [(f"x{s}", f"h{s}") for s in range(1, S + 1)] + [(f"h{s}", f"h{s + 1}") for s in range(1, S)]
    nodes.append(Node("s0", "s_0\n(from h_4)", -1.2, 5.4, "input"))
    for t in range(1, T + 1):
        x = 2.6 * t - 1.2
        nodes += [Node(f"c{t}", f"c_{t} = Σ_s a_{t}s h_s", x - 1.3, 3.6),
                  Node(f"s{t}", f"s_{t}", x, 5.4), Node(f"y{t}", f"y_{t}", x, 7.0, "output")]
        edges += [(f"h{s}", f"c{t}") for s in range(1, S + 1)]
        edges += [(f"s{t - 1}", f"c{t}", "query"), (f"c{t}", f"s{t}"), (f"s{t - 1}", f"s{t}"), (f"s{t}", f"y{t}")]
        if t > 1:
            edges.append((f"y{t - 1}", f"s{t}"))  # the previous output token is the next step's input
    note = ("encoder below (x_s: source tokens, h_s: keys and values); decoder above: "
            "step t attends from s_{t-1} and reads y_{t-1}")
    return nodes, edges, "The encoder-decoder with attention, unrolled", note


def lstm_step_graph() -> tuple:
    """One LSTM step, as lstm_step_forward and lstm_cell_forward compute it."""
    nodes = [
        Node("c_prev", "c_{t-1}", 0, 5.0, "input"),
        Node("x", "x_t", 0, 3.4, "input"),
        Node("Wx", "Wx", 0, 2.6, "param"),
        Node("h_prev", "h_{t-1}", 0, 1.8, "input"),
        Node("Wh", "Wh", 0, 1.0, "param"),
        Node("b", "b", 0, 0.2, "param"),
        Node("a", "a = x_t Wx + h_{t-1} Wh + b\ncolumns a_i | a_f | a_g | a_o", 2.6, 2.2, "split"),
        Node("f", "f = σ(a_f)", 5.6, 4.0),
        Node("i", "i = σ(a_i)", 5.6, 2.8),
        Node("g", "g = tanh(a_g)", 5.6, 1.6),
        Node("o", "o = σ(a_o)", 5.6, 0.4),
        Node("c", "c_t = f ⊙ c_{t-1} + i ⊙ g", 8.4, 5.0),
        Node("tc", "tc = tanh(c_t)", 8.4, 2.8),
        Node("h", "h_t = o ⊙ tc", 10.4, 1.4),
        Node("c_out", "c_t → step t+1", 12.4, 5.0, "output"),
        Node("h_next", "h_t → step t+1", 12.4, 2.2, "output"),
        Node("h_up", "h_t → the layer above", 12.4, 0.6, "output"),
    ]
    edges = [("x", "a"), ("Wx", "a"), ("h_prev", "a"), ("Wh", "a"), ("b", "a"),
             ("a", "f", "a_f"), ("a", "i", "a_i"), ("a", "g", "a_g"), ("a", "o", "a_o"),
             ("c_prev", "c"), ("f", "c"), ("i", "c"), ("g", "c"),
             ("c", "tc"), ("c", "c_out"), ("o", "h"), ("tc", "h"), ("h", "h_next"), ("h", "h_up")]
    note = "backward: dc_t = dc (from step t+1) + tanh_backward(dh ⊙ o, tc); dh = dh (from step t+1) + dh (from above)"
    return nodes, edges, "One LSTM step (lstm_step_forward)", note


def bptt_graph() -> tuple:
    """lstm_forward unrolled over three steps: one set of weights used at every step."""
    nodes = [Node("W", "Wx, Wh, b", 5.0, 4.7, "param"),
             Node("h0", "h_0", -0.6, 2.0, "input"), Node("c0", "c_0", -0.6, 3.0, "input")]
    edges = []
    for t in (1, 2, 3):
        x = 3.5 * t - 2.0
        nodes += [Node(f"x{t}", f"x_{t}", x, 0.6, "input"),
                  Node(f"s{t}", f"step {t}\nLSTM", x, 2.5, "split"),
                  Node(f"h{t}", f"h_{t}", x + 1.75, 2.0), Node(f"c{t}", f"c_{t}", x + 1.75, 3.0),
                  Node(f"y{t}", f"output {t}\n(loss)", x + 1.75, 0.6, "output")]
        prev_h, prev_c = ("h0", "c0") if t == 1 else (f"h{t - 1}", f"c{t - 1}")
        edges += [("W", f"s{t}"), (f"x{t}", f"s{t}"), (prev_h, f"s{t}"), (prev_c, f"s{t}"),
                  (f"s{t}", f"h{t}"), (f"s{t}", f"c{t}"), (f"h{t}", f"y{t}")]
    nodes += [Node("hT", "h_T, c_T\n(final state)", 12.3, 2.5, "output")]
    edges += [("h3", "hT"), ("c3", "hT")]
    note = ("backward runs t = 3, 2, 1: dh = dh (from step t+1) + dhs[:, t]; "
            "dWx, dWh, db = the sum over steps (one product after the loop)")
    return nodes, edges, "BPTT: lstm_forward unrolled over 3 steps", note


def _attention(x0: float, query: str, y: float) -> tuple[list[Node], list[tuple]]:
    """The attention part both decoders share: keys, prepared keys, e_t, a_t, c_t (x from x0)."""
    nodes = [Node("keys", "keys (N, S, K)\nencoder outputs", 0, -1.4, "input"),
             Node("P", "P = prepare(keys)\nonce per batch", 2.6, -0.3),
             Node("others", "the other\ndecoder steps", 2.6, -2.4, "output"),
             Node("e", f"e_t = score({query}, P)", x0, y),
             Node("a_t", "a_t = softmax(e_t, mask)", x0 + 2.6, y),
             Node("ctx", "c_t = a_t keys", x0 + 4.6, y - 1.2)]
    edges = [("keys", "P"), ("keys", "ctx", "values"), ("keys", "others"), ("P", "e"), ("P", "others"),
             ("e", "a_t"), ("a_t", "ctx")]
    return nodes, edges


def bahdanau_step_graph() -> tuple:
    """BahdanauDecoder.step: attend from s_{t-1}, then step the cell on [y_emb; c_t]."""
    nodes, edges = _attention(4.8, "s_{t-1}", 1.4)
    nodes += [
        Node("y", "y_emb = E[y_{t-1}]", 0, 4.6, "input"),
        Node("cell_prev", "cell_{t-1}", 0, 3.4, "input"),
        Node("s_prev", "s_{t-1}", 0, 2.2, "input"),
        Node("rnn", "LSTM([y_emb; c_t],\ns_{t-1}, cell_{t-1})", 11.4, 3.4, "split"),
        Node("s", "s_t", 13.6, 3.4), Node("cell", "cell_t", 13.6, 4.6),
        Node("o", "o_t = [s_t; c_t]", 13.6, 1.6),
        Node("logits", "logits_t = o_t W_out + b_out", 13.6, 0.2),
        Node("loss", "loss_t", 13.6, -1.0, "output"),
        Node("s_next", "s_t → step t+1", 16.0, 3.4, "output"),
        Node("cell_next", "cell_t → step t+1", 16.0, 4.6, "output"),
    ]
    edges += [("s_prev", "e", "query"), ("s_prev", "rnn", "state"), ("cell_prev", "rnn"), ("y", "rnn"),
              ("ctx", "rnn", "input"), ("ctx", "o"), ("rnn", "s"), ("rnn", "cell"),
              ("s", "o"), ("s", "s_next"), ("cell", "cell_next"), ("o", "logits"), ("logits", "loss")]
    note = "backward: dc_t = do[:, H:] + dz (o_t and the cell's input); ds_{t-1} = ds_prev + dq (state and query)"
    return nodes, edges, "Bahdanau decoder step (BahdanauDecoder.step), parameters not drawn", note


def luong_step_graph() -> tuple:
    """LuongDecoder.step with input feeding: step the cell, attend from h_t, combine."""
    nodes, edges = _attention(6.6, "h_t", 1.4)
    nodes += [
        Node("cell_prev", "cell_{t-1}", 0, 4.6, "input"),
        Node("h_prev", "h_{t-1}", 0, 3.4, "input"),
        Node("y", "y_emb = E[y_{t-1}]", 0, 2.2, "input"),
        Node("feed", "h~_{t-1}", 0, 1.0, "input"),
        Node("rnn", "LSTM([y_emb; h~_{t-1}],\nh_{t-1}, cell_{t-1})", 2.8, 3.4, "split"),
        Node("h", "h_t", 5.2, 3.4), Node("cell", "cell_t", 5.2, 4.6),
        Node("ht", "h~_t = tanh([c_t; h_t] Wc + bc)", 13.4, 2.4),
        Node("logits", "logits_t = h~_t W_out + b_out", 13.4, 0.6),
        Node("loss", "loss_t", 13.4, -0.8, "output"),
        Node("h_next", "h_t → step t+1", 16.2, 3.6, "output"),
        Node("cell_next", "cell_t → step t+1", 16.2, 4.6, "output"),
        Node("feed_next", "h~_t → step t+1\n(input feeding)", 16.2, 2.0, "output"),
    ]
    edges += [("cell_prev", "rnn"), ("h_prev", "rnn", "state"), ("y", "rnn"), ("feed", "rnn", "input"),
              ("rnn", "h"), ("rnn", "cell"), ("h", "e", "query"), ("h", "ht"), ("h", "h_next"),
              ("cell", "cell_next"), ("ctx", "ht"), ("ht", "logits"), ("ht", "feed_next"), ("logits", "loss")]
    note = "backward: dh_t = dh_next + dcat[:, K:] + dq (three uses); d h~_t = do + dfeed_next"
    return nodes, edges, "Luong decoder step (LuongDecoder.step, input feeding), parameters not drawn", note


#: file stem -> graph builder
GRAPHS = {"graph_encoder_decoder": encoder_decoder_graph, "graph_lstm_step": lstm_step_graph, "graph_bptt": bptt_graph,
          "graph_bahdanau_step": bahdanau_step_graph, "graph_luong_step": luong_step_graph}
