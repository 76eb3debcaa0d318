"""gunicorn's sync worker, with one idle worker woken per connection instead of all of them.

gunicorn's sync workers wait for connections with select() on the shared socket, which wakes every
idle worker; whichever runs first takes it. Requests that come one at a time then rotate over all
the workers, and each meets a Cassandra connection and CPU caches that went cold while the others
took their turns (a write costs more the longer its connection idled: bench/write_path.py).
Registered with EPOLLEXCLUSIVE, the kernel wakes one waiting worker, the longest registered, so at
low load the same two serve (one finishes its request while the other takes the next). Under load
nothing changes: a worker that finishes a request accepts the next waiting connection before it
waits again, so every worker keeps taking them.
"""

import os
import select

from gunicorn.workers.sync import SyncWorker


class WarmSyncWorker(SyncWorker):
    poller = None  # without EPOLLEXCLUSIVE (Linux before 4.5, other systems): gunicorn's own wait

    def run(self) -> None:
        if hasattr(select, "EPOLLEXCLUSIVE"):
            self.poller = select.epoll()
            for listener in self.sockets:
                self.poller.register(listener.fileno(), select.EPOLLIN | select.EPOLLEXCLUSIVE)
            self.poller.register(self.PIPE[0], select.EPOLLIN)  # signals write here (set_wakeup_fd)
        super().run()

    def wait(self, timeout: float) -> list:
        """What SyncWorker.wait returns: the ready listeners, and the pipe when a signal came."""
        if self.poller is None:
            return super().wait(timeout)
        self.notify()
        ready = {fd for fd, _ in self.poller.poll(timeout)}
        woken = [listener for listener in self.sockets if listener.fileno() in ready]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
            woken.append(self.PIPE[0])
        return woken
