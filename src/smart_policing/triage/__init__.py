"""Alternative-response triage (R1-R5, R12): which responder answers each call.

Pure core: the call-type vocabulary and agency mappings (:mod:`.vocabulary`),
policy packs as validated data files (:mod:`.pack`), the decision engine
(:mod:`.engine`) and the false-alarm rules (:mod:`.alarms`). The shared
vocabulary of flags, responders and alarm states is in :mod:`.types`.
"""

__all__: list[str] = []
