"""Input channels of the Rasa server: the web chat widget's socket.io channel.

Rasa loads the channel from credentials.yml as `channels.webchat.WebchatInput`; nothing in
this package does I/O at import time.
"""
