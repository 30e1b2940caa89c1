"""One module per paper: its experiments, the paper's published numbers, and its tables."""

PAPERS = {"000": "vidis.papers.paper000", "002": "vidis.papers.paper002"}
