"""The Pulumi program's pieces: one component resource per concern, assembled by ``build_stack``.

``infra/__main__.py`` reads the stack config and exports ``ReceiptStack.outputs``; tests run the
same ``build_stack`` under ``pulumi.runtime.set_mocks``. Importing this package loads neither
pulumi nor pulumi_aws (``sources`` and ``lambda_package`` are usable without them).
"""
