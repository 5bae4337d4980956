"""The model a learner assembles: parameter holders, scorer, decoders, the Transformer encoder,
seq2seq (config, loss and gradients) and search (greedy, beam)."""
