"""``spark-submit`` entry point: ``spark-submit [spark options] spark_submit.py [recall options]``.

Runs ``cds-b12 recall --engine spark`` with the session spark-submit configured (master,
executors, cluster resources); ``python -m cds_b12.recall.spark_submit --where`` prints this
file's path for the command line. Absolute imports: spark-submit runs it as a script.
"""

import sys

from cds_b12.cli import main

if __name__ == "__main__":
    if sys.argv[1:] == ["--where"]:
        print(__file__)
        sys.exit(0)
    sys.exit(main(["recall", "--engine", "spark", *sys.argv[1:]]))
