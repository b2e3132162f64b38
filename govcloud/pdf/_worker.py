"""Entry point of a PDF segment worker process: ``python -m govcloud.pdf._worker``.

Started by :func:`govcloud.pdf.render.render_table_pdf` for long tables; talks pickles over
stdin/stdout. It lays out pre-rendered HTML only, so it needs neither Django settings nor a
database.
"""

import sys

from govcloud.pdf.render import serve_worker

if __name__ == "__main__":
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must not corrupt the pickle stream
    serve_worker(sys.stdin.buffer, protocol_out)
