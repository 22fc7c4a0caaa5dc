"""The words clickvid-shapes reads: token vocabulary, aliases and function words (manifest `text`).

One tokenizer for training, serving, eval and bench: lower-case, split on anything not a-z0-9,
map each word through ALIASES, then look it up in VOCAB (else <unk>).  packages/core/src/tokenizer.ts
implements the same steps on the manifest; tokenizer-cases.json (written by train_text.py) pins them
together.

Why aliases *and* a trained encoder: an alias can only rename one word.  Word order, clause order
("on a white background, a yellow triangle moves left"), "a pair of", "from left to right" or
"the background is white" are read by the text encoder, which is trained on the paraphrases of
paraphrase.py.  Aliases carry surface variants that a model trained from scratch on a few hundred
words cannot infer from data (that "orb" means circle needs world knowledge, not context), plus
inflections, digits and spelling.

The first 40 tokens are those of model 2.0.0, in the same order, so its weights load unchanged.
"""

V1_VOCAB = (["<pad>", "<unk>", "a", "an", "one", "two", "three", "the", "on", "background", "and",
             "red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "white", "gray", "black",
             "circle", "square", "triangle",
             "moving", "left", "right", "up", "down", "bouncing", "growing", "shrinking", "spinning",
             "small", "big", "slowly", "quickly", "to", "gradient"])

# Structure words the encoder reads for order and clauses, and filler the encoder learns to ignore.
STRUCTURE = ["of", "pair", "trio", "with", "is", "are", "against", "in", "front", "from", "top", "bottom",
             "color", "there", "that", "which", "it", "while", "over", "at", "as", "its", "each", "all"]
FILLER = ["please", "make", "show", "me", "i", "want", "video", "create", "draw", "see", "like", "can",
          "you", "some", "just", "here", "thanks", "shape", "getting", "very", "really", "around", "then"]

VOCAB = V1_VOCAB + [w for w in dict.fromkeys(STRUCTURE + FILLER) if w not in V1_VOCAB]

# surface word -> vocabulary token.  Grouped by the token they stand for.
_GROUPS = {
    # counts
    "one": ["1", "single", "lone"],
    "two": ["2"],
    "three": ["3"],
    "pair": ["couple", "pairs"],
    "trio": ["trios"],
    # shapes (plural, synonyms)
    "circle": ["circles", "ball", "balls", "dot", "dots", "orb", "orbs", "disc", "discs", "disk", "disks",
               "sphere", "spheres", "bubble", "bubbles"],
    "square": ["squares", "box", "boxes", "block", "blocks", "tile", "tiles", "cube", "cubes"],
    "triangle": ["triangles", "pyramid", "pyramids", "wedge", "wedges"],
    "shape": ["shapes", "object", "objects", "thing", "things"],
    # colours
    "gray": ["grey", "silver", "grays", "greys"],
    "purple": ["violet", "lilac", "lavender", "indigo"],
    "magenta": ["pink", "fuchsia"],
    "cyan": ["aqua", "turquoise", "teal"],
    "red": ["crimson", "scarlet"],
    "blue": ["navy", "azure", "cobalt"],
    "green": ["lime", "emerald"],
    "yellow": ["gold", "golden", "lemon"],
    "orange": ["amber", "tangerine"],
    "white": ["ivory", "snow"],
    "black": ["ebony"],
    "color": ["colour", "colors", "colours", "colored", "coloured", "hued", "tinted"],
    # background
    "background": ["backgrounds", "backdrop", "backdrops", "bg", "backround", "backgound"],
    # motion verbs (the direction word says where)
    "moving": ["move", "moves", "moved", "going", "goes", "go", "heading", "heads", "head", "sliding", "slides",
               "slide", "gliding", "glides", "glide", "drifting", "drifts", "drift", "travelling", "traveling",
               "travels", "travel", "floating", "floats", "float", "flying", "flies", "fly", "shifting", "shifts",
               "running", "runs", "rolling", "rolls", "scrolling", "scrolls", "panning"],
    "left": ["leftward", "leftwards", "westward"],
    "right": ["rightward", "rightwards", "eastward"],
    "up": ["upward", "upwards", "rising", "rises", "rise", "ascending", "ascends", "ascend", "climbing", "climbs",
           "climb", "lifting", "lifts"],
    "down": ["downward", "downwards", "falling", "falls", "fall", "descending", "descends", "descend", "dropping",
             "drops", "drop", "sinking", "sinks", "sink"],
    "bouncing": ["bounce", "bounces", "bounced", "bouncy", "hopping", "hops", "hop", "jumping", "jumps", "jump",
                 "bobbing", "bobs"],
    "growing": ["grow", "grows", "grew", "expanding", "expands", "expand", "enlarging", "enlarges", "enlarge",
                "swelling", "swells", "inflating", "inflates", "bigger", "larger"],
    "shrinking": ["shrink", "shrinks", "shrank", "contracting", "contracts", "contract", "deflating", "deflates",
                  "smaller", "diminishing", "dwindling", "dwindles"],
    "spinning": ["spin", "spins", "spun", "rotating", "rotates", "rotate", "turning", "turns", "turn", "twirling",
                 "twirls", "twirl", "whirling", "whirls", "revolving", "revolves", "twisting"],
    # size and speed
    "big": ["large", "huge", "giant", "massive"],
    "small": ["tiny", "little", "mini", "miniature"],
    "quickly": ["fast", "quick", "rapidly", "swiftly", "speedily"],
    "slowly": ["slow", "gently", "leisurely", "lazily"],
    # filler forms
    "make": ["generate", "produce", "render", "animate", "give", "need", "makes"],
    "video": ["animation", "clip", "movie", "scene", "film", "gif", "picture"],
    "want": ["wanna", "wants", "would", "could", "id", "d", "love"],
    "show": ["display", "shows", "depict"],
    "is": ["s", "be", "being", "was"],
    "are": ["were"],
    "with": ["having", "has", "have", "featuring"],
    "thanks": ["thank", "thx"],
    "very": ["super", "extremely"],
    "getting": ["gets", "get", "becoming", "becomes", "keeps", "keep"],
    "against": ["behind"],
    "in": ["into", "inside", "across"],
    "over": ["above", "upon", "onto"],
    "each": ["every"],
}
ALIASES = {}
for _tok, _forms in _GROUPS.items():
    assert _tok in VOCAB, _tok
    for _f in _forms:
        assert _f not in VOCAB and _f not in ALIASES, _f
        ALIASES[_f] = _tok

# Words a creator may sprinkle anywhere ("a very red circle", "just two squares"): training inserts them at
# random, so the encoder learns they carry nothing.
NEUTRAL = ["very", "really", "just", "some", "here", "then", "it", "its", "all", "each", "like", "while", "as",
           "at", "please", "shape", "thanks"]

# Words that never count as content (they carry no attribute on their own).  The server refuses a
# prompt whose only known words are these; they are never reported as unknown.
FUNCTION_WORDS = ["a", "an", "the", "on", "background", "and", "moving", "to", "of"] + \
    [w for w in STRUCTURE + FILLER if w not in ("of", "pair", "trio", "top", "bottom")]
FUNCTION_WORDS = list(dict.fromkeys(FUNCTION_WORDS))

# Count words for the scene check (how many objects a prompt asks for).
COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "pair": 2, "trio": 3}

# Surface forms never used in a training caption: the paraphrase split measures them.
HELDOUT_SYNONYMS = ["orb", "orbs", "block", "blocks", "pyramid", "pyramids", "descending", "ascending",
                    "twirling", "enlarging", "contracting", "travel", "travels", "leftward", "heading",
                    "scarlet", "turquoise", "lavender", "backdrop", "couple", "2", "hopping", "massive",
                    "swiftly", "animation"]
for _w in HELDOUT_SYNONYMS:
    assert _w in ALIASES, _w

# Words that open or extend a noun phrase: an unknown word after one of these, with no shape word
# after it in the phrase, names an object or scene outside the model's world ("a cat", "a red car",
# "on a sandy beach"), and the prompt is refused instead of drawing an unrelated clip.
NOUN_PHRASE_WORDS = list(COUNT_WORDS) + ["the", "of", "some", "each", "all", "its"] + \
    ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "white", "gray", "black"] + \
    ["small", "big"]
