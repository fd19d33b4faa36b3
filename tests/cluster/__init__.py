"""Several server processes sharing one Redis: each a real child process, clients on real sockets."""
