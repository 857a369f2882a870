"""The experiment runner: configs, registry, tracking, tasks and the `affect` command line.

Importing this package sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it (it only takes
effect when torch has not been imported yet). OpenMP's default lets idle worker threads spin; on a small shared
machine (2 cores, another process busy) a 2-thread torch step then runs about 5x slower than with passive
waiting, while on an idle machine passive waiting costs under 10% (measured for STSTNet, 2 threads: 9.6 vs
8.9 ms per step idle, 38 vs 182 ms with a second process training beside it).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
