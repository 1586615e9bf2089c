"""`clv_run` at 1,000,000 members / 10,000,000 receipts, timed with its peak memory and set
against the nightly window: bench/rfm_bench.py's `clv` contender on the same database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/clv_bench.py
"""

import sys

from rfm_bench import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--only", "clv"]
    main()
