import sys
import time

queue = sys.argv[sys.argv.index("--queue") + 1] if "--queue" in sys.argv else "jobs"
while True:
    print(f"waiting for work on {queue}", flush=True)
    time.sleep(30)
