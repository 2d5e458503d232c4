"""OCR engines and the receipt labelling worker."""
