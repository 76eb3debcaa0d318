"""Whether the client that sent a request is still there to read the answer.

Under overload a request can wait in gunicorn's listen backlog longer than its client waits for
it. A sync worker cannot tell, and would recognise the image and store a prediction that nobody
reads (and that the client's retry stores again), while live requests queue behind it. Once the
body has been read, a closed connection shows as the end of the stream; as nginx does, such a
request gets a 499 and no work.
"""

import socket

from ..errors import ClientGone


def ensure_waiting(request) -> None:
    """Raise ClientGone when the client has closed its connection; call it after reading the body.

    Only gunicorn hands over the connection (``gunicorn.socket``); elsewhere (runserver, the test
    client) the client is taken to be waiting.
    """
    connection = request.META.get("gunicorn.socket")
    if connection is None:
        return
    try:
        gone = connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:  # nothing more sent: the client is waiting for the answer
        return
    except ValueError:  # a TLS socket, which cannot peek: assume it waits
        return
    except OSError:  # reset by the client
        gone = True
    if gone:
        raise ClientGone("The client closed the connection before its request was processed: nothing was recognised "
                         "or stored.")
