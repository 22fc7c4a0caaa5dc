"""Procedural paraphrases of a caption spec: the words creators use, not only the core grammar.

    phrase(spec, rng, split="train"|"heldout") -> a free-text prompt for world.sample_spec()'s spec

A paraphrase is put together from parts, each with several surface forms:
  prefix     filler a creator types first ("please", "make a video of", "i want", "show me") or nothing
  objects    count form (a / one / 1 / single, two / 2 / a pair of, three / 3 / a trio of), size, colour
             synonym, shape synonym in singular or plural; two groups joined by "and"
  motion     verb and direction ("moving left", "slides to the left", "travelling leftwards", "heading right",
             "from left to right", "rising", "falls", "getting bigger", "twirling", ...), speed before or after
  background "on a white background", "on white", "against a white backdrop", "with a white background",
             "in front of a white background", "over a white background", "the background is white",
             gradients "on a blue to purple gradient background"
  order      objects-motion-background, background first ("on a white background, a yellow triangle moves
             left"), background before the motion, a relative clause ("... that rises"), "there is/are ...",
             the background as its own sentence
and then upper case and punctuation at random (the tokenizer drops both).

Held out (split="heldout" only, never in a training caption): the surface forms in
lexicon.HELDOUT_SYNONYMS and the templates in HELDOUT_TEMPLATES (orders, prefixes and phrase forms).
Every held-out prompt has at least one held-out synonym or template.
"""
import random

import lexicon
import world

SHAPE_FORMS = {  # singular, plural
    "circle": [("circle", "circles"), ("ball", "balls"), ("dot", "dots"), ("orb", "orbs"), ("disc", "discs"),
               ("disk", "disks"), ("sphere", "spheres"), ("bubble", "bubbles")],
    "square": [("square", "squares"), ("box", "boxes"), ("block", "blocks"), ("tile", "tiles"), ("cube", "cubes")],
    "triangle": [("triangle", "triangles"), ("pyramid", "pyramids"), ("wedge", "wedges")],
}
COLOR_FORMS = {c: [c] + [a for a, t in lexicon.ALIASES.items() if t == c] for c in world.COLOR_NAMES}
SIZE_FORMS = {s: [s] + [a for a, t in lexicon.ALIASES.items() if t == s] for s in world.SIZES}
SPEED_FORMS = {s: [s] + [a for a, t in lexicon.ALIASES.items() if t == s] for s in world.SPEEDS}

# verb forms: (-ing, 3rd person, base)
MOVE_VERBS = [("moving", "moves", "move"), ("going", "goes", "go"), ("heading", "heads", "head"),
              ("sliding", "slides", "slide"), ("gliding", "glides", "glide"), ("drifting", "drifts", "drift"),
              ("travelling", "travels", "travel"), ("traveling", "travels", "travel"),
              ("floating", "floats", "float"), ("rolling", "rolls", "roll"), ("shifting", "shifts", "shift")]
DIR_FORMS = {"left": ["left", "leftward", "leftwards", "to the left", "westward"],
             "right": ["right", "rightward", "rightwards", "to the right", "eastward"],
             "up": ["up", "upward", "upwards"],
             "down": ["down", "downward", "downwards"]}
FROM_TO = {"left": ("right", "left"), "right": ("left", "right"), "up": ("bottom", "top"), "down": ("top", "bottom")}
OWN_VERBS = {  # motions said by one verb: (-ing, 3rd person)
    "up": [("rising", "rises"), ("ascending", "ascends"), ("climbing", "climbs"), ("floating up", "floats up"),
           ("rising up", "rises up")],
    "down": [("falling", "falls"), ("descending", "descends"), ("dropping", "drops"), ("sinking", "sinks"),
             ("falling down", "falls down")],
    "bouncing": [("bouncing", "bounces"), ("hopping", "hops"), ("jumping", "jumps"), ("bobbing", "bobs"),
                 ("bouncing up and down", "bounces up and down"), ("bouncing around", "bounces around")],
    "growing": [("growing", "grows"), ("expanding", "expands"), ("enlarging", "enlarges"), ("swelling", "swells"),
                ("getting bigger", "gets bigger"), ("growing larger", "grows larger"), ("inflating", "inflates")],
    "shrinking": [("shrinking", "shrinks"), ("contracting", "contracts"), ("deflating", "deflates"),
                  ("getting smaller", "gets smaller"), ("shrinking down", "shrinks down"), ("dwindling", "dwindles")],
    "spinning": [("spinning", "spins"), ("rotating", "rotates"), ("twirling", "twirls"), ("turning", "turns"),
                 ("whirling", "whirls"), ("spinning around", "spins around"), ("revolving", "revolves")],
}
PREFIXES = ["", "", "", "", "please", "make a video of", "i want", "show me", "create", "draw", "can you make",
            "please draw", "a video of", "i want to see", "make", "render", "a clip of", "show", "i need",
            "generate", "just"]
HELDOUT_PREFIXES = ["i would like a clip of", "could you please show", "generate an animation of",
                    "please make me a video with"]

# Templates: how the parts are ordered.  {P} prefix, {O} objects, {M} motion (-ing form), {M3} motion
# (3rd person), {B} background phrase, {C} background colour word.
TEMPLATES = [
    "{P} {O} {M} {B}", "{P} {O} {M} {B}", "{P} {O} {M} {B}",
    "{P} {B}, {O} {M}", "{P} {B}, {O} {M3}", "{B} {O} {M}",
    "{P} {O} {B} {M}", "{P} {O} {B}, {M}",
    "{P} {O} that {M3} {B}", "{P} {O} which {M3} {B}",
    "there is {O} {M} {B}", "there are {O} {M} {B}",
    "{P} {O} {M}. the background is {C}", "{P} {O} {M}, {C} background", "{O} {M3} {B}",
    "{P} {O} {M} with a {C} background",
    # the background said first with no preposition before it (added for 2.1's second training run, when
    # the held-out templates that start so were read at 7-69 %: the first run had no such training caption)
    "background {C}, {O} {M}", "{C} is the background, {O} {M3}", "{P} {O} {M}. background {C}",
]
HELDOUT_TEMPLATES = [
    "the background is {C}. {O} {M}",
    "{C} background: {O} {M3}",
    "{P} {O} which is {M} {B}",
    "{P} {B}, there is {O} {M}",
    "{P} {O}, {M}, {B}",
]

STILL_TEMPLATES = ["{P} {O} {B}", "{P} {B}, {O}", "there is {O} {B}"]

SOLID_BG = ["on a {c} background", "on the {c} background", "on {c}", "against a {c} backdrop",
            "against a {c} background", "over a {c} background", "with a {c} background",
            "in front of a {c} background", "on a {c} coloured background", "on a {c} colored backdrop",
            "on top of a {c} background"]
HELDOUT_SOLID_BG = ["in front of {c}", "on a background of {c}", "against {c}"]
GRADIENT_BG = ["on a {c} to {d} gradient background", "on a {c} and {d} gradient background",
               "against a {c} to {d} gradient", "on a {c} to {d} gradient"]


class Forms:
    """Draws surface forms, never a held-out one in training."""

    def __init__(self, rng, split):
        self.rng, self.heldout = rng, split == "heldout"
        self.used_heldout = False

    def ok(self, text):
        held = [w for w in text.replace(",", " ").split() if w in lexicon.HELDOUT_SYNONYMS]
        return not held or self.heldout

    def pick(self, forms, held=()):
        """A form from forms (+ held-out ones when evaluating); held-out synonyms only when evaluating.
        The first form (the core grammar's word) is drawn a third of the time, as creators use it most."""
        pool = [f for f in forms if self.ok(f if isinstance(f, str) else " ".join(f))]
        if self.heldout:
            extra = list(held) + [f for f in forms if f not in pool]
            if extra and self.rng.random() < 0.5:
                self.used_heldout = True
                return self.rng.choice(extra)
        if pool[0] == forms[0] and self.rng.random() < 0.33:
            return pool[0]
        return self.rng.choice(pool)


def group(f, n, size, color, shape, bare=False):
    """A noun phrase for n objects.  bare (training only: it draws from the rng, which the held-out
    generator must not): 1 in 12 single objects without a count word ("red box, bouncing")."""
    r = f.rng
    sing, plur = f.pick(SHAPE_FORMS[shape])
    noun = sing if n == 1 else plur
    col = f.pick(COLOR_FORMS[color])
    adj = col
    if size:
        sz = f.pick(SIZE_FORMS[size])
        adj = f"{sz} {col}" if r.random() < 0.85 else f"{col} {sz}"
    if n == 1:
        count = f.pick(["a", "a", "a", "one", "1", "a single", "one single"])
    elif n == 2:
        count = f.pick(["two", "two", "2", "a pair of", "pair of", "a couple of", "two"])
    else:
        count = f.pick(["three", "three", "3", "a trio of", "three"])
    if count == "a" and adj[0] in "aeiou" and r.random() < 0.8:
        count = "an"
    if bare and n == 1 and r.random() < 1 / 12:
        return f"{adj} {noun}"
    return f"{count} {adj} {noun}"


def motion(f, spec):
    """-> (-ing form, 3rd-person form) of the motion phrase, speed word included; ("", "") for none."""
    m, r = spec["motion"], f.rng
    if m is None:
        return "", ""
    d = m.split()[-1]
    if m.startswith("moving"):
        options = ["verb"] * 4 + ["fromto"] + (["own"] if d in OWN_VERBS else [])
        kind = r.choice(options)
        if kind == "verb":
            ing, third, _ = f.pick(MOVE_VERBS)
            dw = f.pick(DIR_FORMS[d])
            ing, third = f"{ing} {dw}", f"{third} {dw}"
        elif kind == "fromto":
            a, b = FROM_TO[d]
            a, b = (f"the {a}", f"the {b}") if r.random() < 0.4 else (a, b)
            ing, third, _ = f.pick(MOVE_VERBS)
            ing, third = f"{ing} from {a} to {b}", f"{third} from {a} to {b}"
        else:
            ing, third = f.pick(OWN_VERBS[d])
    else:
        ing, third = f.pick(OWN_VERBS[m])
    if spec["speed"]:
        sp = f.pick(SPEED_FORMS[spec["speed"]])
        if r.random() < 0.6:
            ing, third = f"{ing} {sp}", f"{third} {sp}"
        else:
            ing, third = f"{sp} {ing}", f"{sp} {third}"
    return ing, third


def background(f, spec, forms):
    if not spec["bg_word"]:
        return "", ""
    c = f.pick(COLOR_FORMS[spec["bg"]])
    if spec["bg2"]:
        d = f.pick(COLOR_FORMS[spec["bg2"]])
        return f.rng.choice(GRADIENT_BG).format(c=c, d=d), None
    return f.pick(forms, HELDOUT_SOLID_BG if f.heldout else ()).format(c=c), c


def phrase(spec, rng, split="train"):
    """One paraphrase of spec (train: no held-out form; heldout: at least one held-out form).

    Training captions come from compose() (clauses in any order, see there).  The held-out split keeps
    the generator that wrote 2.1's eval-paraphrase.json (heldout_phrase), so that every model is scored
    on the same prompts."""
    if split == "heldout":
        return heldout_phrase(spec, rng)
    return compose(spec, rng)


def heldout_phrase(spec, rng, split="heldout"):
    for _ in range(50):
        f = Forms(rng, split)
        objs = group(f, spec["count"], spec["size"], spec["color"], spec["shape"])
        if spec["second"]:
            g = spec["second"]
            objs += " and " + group(f, g["count"], g["size"], g["color"], g["shape"])
        ing, third = motion(f, spec)
        bg, c = background(f, spec, SOLID_BG)
        pool = TEMPLATES
        if f.heldout and rng.random() < 0.5:
            pool = HELDOUT_TEMPLATES
        if not ing:
            pool = STILL_TEMPLATES
        # templates that need a solid colour word or a motion, or that would drop the background
        tpl = f.pick([t for t in pool if (c or "{C}" not in t) and (ing or "{M" not in t) and (bg or "{B}" in t)])
        if tpl in HELDOUT_TEMPLATES:
            f.used_heldout = True
        prefixes = PREFIXES + (HELDOUT_PREFIXES if f.heldout else [])
        pre = rng.choice(prefixes)
        if pre in HELDOUT_PREFIXES:
            f.used_heldout = True
        text = tpl.format(P=pre, O=objs, M=ing, M3=third, B=bg, C=c or "")
        if not f.heldout and rng.random() < 0.15:
            text = f"{text} {rng.choice(['please', 'thanks', 'thank you'])}"
        text = " ".join(text.replace(" ,", ",").split()).strip(" ,")
        if f.heldout and not f.used_heldout:
            continue
        if len(world.words(text)) > world.MAX_TOKENS:
            continue
        return surface_noise(text, rng)
    return world.make_prompt(spec, rng)


def surface_noise(text, rng):
    """Case and punctuation, which the tokenizer drops."""
    r = rng.random()
    if r < 0.15:
        text = text.upper()
    elif r < 0.45:
        text = text[0].upper() + text[1:]
    elif r < 0.55:
        text = " ".join(w.capitalize() for w in text.split())
    if rng.random() < 0.3:
        text += rng.choice([".", "!", "!!", "...", " :)"])
    return text


# ------------------------------------------------------------------ training captions: clauses in any order
# 2.1 was trained on the TEMPLATES above.  There, a background said as its own clause ("the background is
# white", "white background") came only *after* the objects, and the text encoder learnt a shortcut: the
# first colour of a prompt is the object's.  The held-out "the background is white. a red circle ..." then
# read red as the background 80 % of the time.  compose() removes the shortcut at its root: a caption is a
# set of clauses (objects, motion, background) put in any order, and each background form is said at the
# start, in the middle and at the end, so the only thing that tells a background colour from an object
# colour is the words around it.  The held-out templates stay out: the (form, position) pairs they use are
# never composed (FIRST_NEVER, and no "which is" / "there is" after a leading background).

# the background as a phrase that attaches to the objects: on / against / over / with ... (SOLID_BG, plus
# bare colours after more prepositions; "in front of C", "against C", "on a background of C" stay held out)
BG_PHRASES = SOLID_BG + ["over {c}", "on top of {c}", "with {c} behind it", "on a plain {c} background",
                         "with a {c} colored background", "over a {c} colour"]
# the background as a clause of its own
BG_CLAUSES = ["the background is {c}", "background {c}", "{c} background", "{c} is the background",
              "the background colour is {c}", "background colour {c}", "the background is coloured {c}",
              "its background is {c}", "background is {c}", "{c} as the background", "the color of the background is {c}"]
# clause forms never put first: the held-out templates "the background is C. ..." and "C background: ..."
# (tokens drop punctuation and the article carries nothing, so these would be the held-out template itself)
FIRST_NEVER = {"the background is {c}", "{c} background", "background is {c}", "its background is {c}",
               "the background is coloured {c}", "the background colour is {c}", "the color of the background is {c}"}
JOIN_LAST = [". ", ", ", " and ", "; ", " with "]


def body(f, objs, ing, third, lead_bg):
    """The objects and their motion, in one of several forms (no "which is", a held-out template)."""
    r = f.rng
    if not ing:
        return objs if lead_bg or r.random() < 0.7 else f"there {'is' if objs.split()[0] in ('a', 'an', 'one', '1') else 'are'} {objs}"
    forms = [f"{objs} {ing}", f"{objs} {ing}", f"{objs} {third}", f"{objs} that {third}", f"{objs}, {ing}",
             f"{objs} which {third}"]
    if not lead_bg:        # "on C, there is ..." is a held-out template
        forms += [f"there is {objs} {ing}", f"there are {objs} {ing}"]
    return r.choice(forms)


def compose(spec, rng):
    """A training caption: prefix, objects, motion and background clauses in any order; never a held-out
    synonym or template."""
    for _ in range(50):
        f = Forms(rng, "train")
        objs = group(f, spec["count"], spec["size"], spec["color"], spec["shape"], bare=spec["second"] is None)
        if spec["second"]:
            g = spec["second"]
            objs += " and " + group(f, g["count"], g["size"], g["color"], g["shape"])
        ing, third = motion(f, spec)
        pre = rng.choice(PREFIXES)
        text = None
        if spec["bg2"]:
            c, d = f.pick(COLOR_FORMS[spec["bg"]]), f.pick(COLOR_FORMS[spec["bg2"]])
            bg, clause = rng.choice(GRADIENT_BG).format(c=c, d=d), False
        elif spec["bg_word"]:
            c = f.pick(COLOR_FORMS[spec["bg"]])
            clause = rng.random() < 0.5
            form = rng.choice(BG_CLAUSES if clause else BG_PHRASES)
            bg = form.format(c=c)
        else:
            bg, clause, form = "", False, ""
        where = rng.choice(["first", "middle", "last", "last"]) if bg else "none"
        if where == "first" and clause and form in FIRST_NEVER:
            where = rng.choice(["middle", "last"])
        if where == "middle" and not ing:
            where = "last"
        if where == "first":
            text = f"{pre} {bg}, {body(f, objs, ing, third, True)}"
        elif where == "middle":
            sep = ", " if clause else " "
            text = f"{pre} {objs}{sep}{bg}{sep}{rng.choice([ing, third])}"
        elif where == "last":
            b = body(f, objs, ing, third, False)
            text = f"{pre} {b}{rng.choice(JOIN_LAST) if clause else ' '}{bg}"
        else:
            text = f"{pre} {body(f, objs, ing, third, False)}"
        if rng.random() < 0.15:
            text = f"{text} {rng.choice(['please', 'thanks', 'thank you'])}"
        text = " ".join(text.replace(" ,", ",").replace(" .", ".").split()).strip(" ,.;")
        if not f.ok(text) or len(world.words(text)) > world.MAX_TOKENS:
            continue
        return surface_noise(text, rng)
    return world.make_prompt(spec, rng)


_COLORS, _SHAPES = set(world.COLOR_NAMES), set(world.SHAPES)
_NOT_A_LEAD = {"a", "an", "the", "on", "against", "over", "with", "in", "of", "to", "and", "top", "plain"} | _COLORS


def heldout_form(words):
    """The held-out template or background phrase that a caption's words (world.words) follow, or None.
    train_text.py checks every training caption with it, so that a held-out template cannot slip into
    training through a new clause order."""
    first_shape = next((i for i, w in enumerate(words) if w in _SHAPES), len(words))
    lead = words[:first_shape]
    for i, w in enumerate(lead):
        nxt = lead[i + 1:i + 3]
        if w == "background" and nxt[:1] == ["is"] and any(x in _COLORS for x in lead[i + 2:]):
            return "the background is C. O M"
        if w in _COLORS and nxt[:1] == ["background"] and (i == 0 or lead[i - 1] not in _NOT_A_LEAD):
            return "C background: O M"
        if w in ("there",) and any(x in _COLORS for x in lead[:i]) and "background" in lead[:i]:
            return "B, there is O M"
    for i in range(len(words) - 2):
        if words[i:i + 2] == ["which", "is"]:
            return "O which is M B"
        if words[i:i + 2] == ["front", "of"] and words[i + 2] in _COLORS:
            return "in front of C"
        if words[i:i + 2] == ["background", "of"] and words[i + 2] in _COLORS:
            return "on a background of C"
    for i in range(len(words) - 1):
        if words[i] == "against" and words[i + 1] in _COLORS:
            return "against C"
    return None
