"""One module per paper: its experiments, the paper's published numbers, and its tables."""

PAPERS = {
    "000": "vidis.papers.paper000",
    "001": "vidis.papers.paper001",
    "002": "vidis.papers.paper002",
    "003": "vidis.papers.paper003",
    "004": "vidis.papers.paper004",
}
