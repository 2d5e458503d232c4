"""LayoutLM for receipts: encoding spec, datasets, training, evaluation, runtimes and export."""
