"""The shop's chat widget (plain JavaScript and CSS) and a tiny server for the demo shop page.

`python -m webchat` serves the demo page, the privacy notice, the widget files and the
socket.io client that npm installed into webchat/node_modules.
"""
