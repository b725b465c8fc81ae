#! /usr/bin/env python3
# The deploy service of GitLab's web-hook tutorial (seed 003): a Flask app
# that reads `ref` from a push event and updates a checkout to that branch.
# hookrt's push event has GitLab's shape, so the logic is the tutorial's;
# two things are added: the signature check, and git run without a shell
# (a branch name is the pusher's to choose, and `;` is legal in one).
import hashlib
import hmac
import json
import os
import subprocess

from flask import Flask, abort, request

app = Flask(__name__)
# The same bytes as the webhook's `secret_file` (without its newline).
SECRET = os.environ["WEBHOOK_SECRET"].encode()
# The checkout to deploy: a clone of the repository.
DEPLOY_PATH = os.environ.get("DEPLOY_PATH", "/home/www/test/")


@app.route('/', methods=['POST'])
def index():
    expected = "sha256=" + hmac.new(SECRET, request.get_data(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hookrt-Signature-256", "")):
        abort(401)
    return _hooks(DEPLOY_PATH, request.get_data())


def _hooks(path, data):
    post_data = json.loads(data)
    ref = post_data['ref']
    branch_name = ref.split('/')[-1]
    git = lambda *args: subprocess.run(["git", *args], cwd=path).returncode
    status = git("fetch", "--quiet", "origin") or git("checkout", "--quiet", branch_name) \
        or git("pull", "--quiet", "--rebase")
    if status == 0:
        return 'success'
    else:
        return 'error'


if __name__ == '__main__':
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
