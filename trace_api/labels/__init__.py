"""Labels: a code's QR label as PNG or SVG, and A4 PDF sheets of a batch's codes, in Chinese or English."""
