"""The HTTP API edge (billing portal and integrations); a sibling of `orgquota.controller`, which it
never imports (see `.importlinter`)."""
