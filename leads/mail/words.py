"""Word lists of triage, English and French, and matching that ignores case and accents."""

import re
import unicodedata
from functools import lru_cache


def fold(text: str) -> str:
    """Lower case without accents: "Pièces" and "pieces" match alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


@lru_cache(maxsize=512)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    """One pattern finding any of these phrases as whole words, in folded text."""
    alternatives = sorted({re.escape(fold(p)) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)")


def phrases_found(folded_text: str, phrases: tuple[str, ...]) -> set[str]:
    return set(phrase_pattern(phrases).findall(folded_text))


# Mentioned while buying, these do not make the mail the service or finance department's.
NEUTRAL_PHRASES = (
    "service plan", "maintenance plan", "prepaid maintenance", "extended warranty", "protection plan",
    "plan d'entretien", "forfait d'entretien", "entretien prepaye", "garantie prolongee", "plan de protection",
    "customer service", "service a la clientele",
    # Attachments, identity papers, a listing's history and features, reminders: not a department's job.
    "piece jointe", "pieces jointes", "en piece jointe", "piece d'identite", "pieces d'identite",
    "accident history", "been in an accident", "in an accident", "accidente", "historique d'accident",
    "come with winter tires", "comes with winter tires", "vient avec des pneus", "viennent avec des pneus",
    "battery range", "autonomie de la batterie", "paint colour", "paint color", "couleur de peinture",
    "petit rappel", "rappel amical", "simple rappel",
    "notre echange", "echange telephonique", "suite a notre echange",
)  # fmt: skip

# A vehicle of the store's stock asked about in a plain mail: worth as much as an ADF or form vehicle.
LISTING_PHRASES = (
    "still available", "still for sale", "still have it", "is it available", "encore disponible",
    "toujours disponible", "toujours en vente", "est-il disponible", "est-elle disponible", "carfax",
    "listed at", "your listing", "your ad", "votre annonce", "stock #", "stock number", "numero de stock",
)  # fmt: skip

# Words that want a vehicle; they weigh double, so a buyer's passing mention of tires stays sales.
STRONG_SALES_PHRASES = (
    "buy", "buying", "purchase", "purchasing", "lease", "leasing", "test drive", "test-drive", "trade-in",
    "trade in", "trading in", "my trade",
    "acheter", "achat", "location", "louer", "essai routier", "echange", "reprise",
)  # fmt: skip

# A lease coming to its end is the finance office's (a buyout, a return)…
LEASE_ENDING_PHRASES = (
    "my lease",
    "end of lease",
    "lease return",
    "ma location",
    "fin de location",
    "fin de bail",
)
# …unless the customer has the next vehicle in view: then it is the sales desk's renewal.
NEXT_VEHICLE_PHRASES = (
    "new one", "a new vehicle", "a new car", "new lease", "lease another", "another vehicle", "another car",
    "next vehicle", "next car", "upgrade", "renew", "un nouveau", "une nouvelle", "nouvelle location",
    "nouveau vehicule", "nouvelle voiture", "prochain vehicule", "prochaine voiture", "autre vehicule",
    "autre voiture", "renouveler",
)  # fmt: skip

# A loan asked for a vehicle to buy ("what financing rate on a new RAV4?") is the sales desk's…
PURCHASE_FINANCING_PHRASES = ("financing", "financement", "credit", "loan", "pret")
NEW_VEHICLE_PHRASES = (
    "on a new", "for a new", "a brand new", "sur un nouveau", "sur une nouvelle", "pour un nouveau",
    "pour une nouvelle", "neuf", "neuve", "neufs", "neuves",
)  # fmt: skip
# …and so is the next vehicle of a customer whose car was written off: the accident is behind them.
TOTAL_LOSS_PHRASES = (
    "written off", "write-off", "total loss", "totaled", "totalled", "perte totale", "declaree perte totale",
)  # fmt: skip
# A customer asking to drive or to sell a vehicle is the sales desk's, whatever else their mail says
# of the car they have ("my 2018 Camry just had its 120,000 km service").
VEHICLE_REQUEST_PHRASES = (
    "test drive", "test-drive", "essai routier", "venir essayer", "aller essayer", "l'essayer",
    "essayer le nouveau", "essayer la nouvelle", "sell my car", "sell my truck", "sell my vehicle",
    "sell you my", "vendre mon", "vendre ma",
)  # fmt: skip

# Between a purchase verb and a part or service word, what makes the purchase a vehicle's ("buy the
# RAV4 if the brakes are new", "your red Mazda3 winter tires included?"): a condition or an inclusion
# word, or the vehicle itself (a vehicle word, a make, a model; a model with a number is matched apart).
PURCHASE_CONDITION_WORDS = (
    "if", "when", "whenever", "once", "since", "unless", "provided", "as long as", "included", "includes",
    "si", "s'il", "s'ils", "quand", "lorsque", "lorsqu", "pourvu", "des que", "inclus", "incluse",
    "incluses", "compris", "comprises",
)  # fmt: skip
VEHICLE_NAME_WORDS = (
    "car", "cars", "truck", "vehicle", "suv", "van", "minivan", "pickup", "voiture", "vehicule", "camion",
    "camionnette", "vus", "fourgonnette",
    # Makes.
    "acura", "audi", "bmw", "buick", "cadillac", "chevrolet", "chevy", "chrysler", "dodge", "fiat", "ford",
    "genesis", "gmc", "honda", "hyundai", "infiniti", "jaguar", "jeep", "kia", "land rover", "lexus",
    "lincoln", "mazda", "mercedes", "mercedes-benz", "mini", "mitsubishi", "nissan", "porsche", "ram",
    "subaru", "tesla", "toyota", "volkswagen", "vw", "volvo",
    # Models without a number in their name.
    "corolla", "camry", "tacoma", "tundra", "highlander", "sienna", "prius", "venza", "sequoia", "crown",
    "civic", "accord", "cr-v", "crv", "hr-v", "hrv", "pilot", "odyssey", "passport", "ridgeline",
    "elantra", "sonata", "tucson", "kona", "palisade", "santa fe", "ioniq", "forte",
    "sportage", "sorento", "telluride", "seltos", "niro", "carnival", "sentra", "altima", "rogue", "murano",
    "pathfinder", "kicks", "frontier", "qashqai", "versa", "escape", "explorer", "edge", "bronco",
    "mustang", "ranger", "maverick", "expedition", "silverado", "equinox", "malibu", "traverse", "tahoe",
    "suburban", "trax", "trailblazer", "colorado", "bolt", "sierra", "terrain", "acadia", "yukon", "canyon",
    "wrangler", "cherokee", "compass", "renegade", "gladiator", "outback", "forester", "crosstrek",
    "impreza", "ascent", "legacy", "jetta", "golf", "tiguan", "atlas", "taos", "passat", "outlander",
    "eclipse", "mirage", "rdx", "mdx", "integra", "charger", "challenger", "durango", "pacifica",
)  # fmt: skip

# Tires are the service department's to fit; bought on their wheels ("a set of 4 on rims",
# « pneus d'hiver avec jantes ») and with no fitting asked, they are the parts counter's sale.
TIRE_PHRASES = ("tire", "tires", "tyres", "winter tires", "pneus", "pneu", "pneus d'hiver")
WHEEL_PHRASES = ("wheels", "rims", "alloys", "mags", "jantes")
TIRE_FITTING_PHRASES = (
    "swap", "install", "installed", "installation", "mount", "mounted", "mounting", "put on", "changeover",
    "change over", "tire change", "rotation", "balance", "balancing", "appointment", "book", "booking",
    "poser", "pose", "installer", "monter", "montage", "changement de pneus", "changer mes pneus",
    "changer les pneus", "equilibrage", "rendez-vous",
)  # fmt: skip

# Price, quote and availability words are left out: a repair or a part is priced and booked too.
DEPARTMENT_PHRASES: dict[str, tuple[str, ...]] = {
    "sales": (
        *STRONG_SALES_PHRASES, "msrp", "monthly payment", "monthly payments", "payments on", "new car",
        "used car", "for sale", "demo", "essai", "paiement mensuel", "paiements mensuels", "vehicule neuf",
        "vehicule d'occasion", "a vendre", "en solde", "used suv", "used truck", "used vehicle", "new suv",
        "new truck", "vehicule usage", "voiture d'occasion", "un nouveau vehicule", "une nouvelle voiture",
        "un nouveau modele",
    ),
    "service": (
        "oil change", "maintenance", "service appointment", "service my", "serviced", "servicing",
        "repair", "repairs", "brake", "brakes", "recall", "warranty work", "warranty repair",
        *TIRE_PHRASES, "tire change", "check engine", "engine light", "noise",
        "alignment", "battery", "inspection", "diagnostic", "mechanic", "mechanical",
        "entretien", "vidange", "vidange d'huile", "reparation", "reparations", "freins", "rappel de securite",
        "avis de rappel", "campagne de rappel", "rappel", "changement de pneus",
        "rendez-vous de service", "rendez-vous d'entretien", "voyant", "bruit", "alignement", "batterie",
        "mecanique", "mecanicien", "travaux sous garantie",
        # Oil and scheduled maintenance: "my 10,000 km service", "changement d'huile".
        "oil", "km service", "kilometre service", "kilometer service", "mile service", "tune-up", "tune up",
        "huile", "changement d'huile", "mise au point",
        # Something broke: "la climatisation ne fonctionne plus", "won't start, can you tow it in?".
        "not working", "isn't working", "stopped working", "doesn't work", "ne fonctionne plus",
        "ne fonctionne pas", "won't start", "wont start", "ne demarre pas", "ne demarre plus", "tow it",
        "tow my", "towed", "tow truck", "remorquage", "remorquer",
    ),
    "parts": (
        "parts", "part", "part number", "accessory", "accessories", "floor mats", "roof rack", "order a part",
        "parts order", "oem part", "pieces", "piece", "numero de piece", "accessoire", "accessoires",
        "tapis", "porte-bagages", "commande de pieces", "commander une piece",
        # Filters and wipers are bought over the counter; "oil filter" outweighs the service word "oil".
        "filter", "oil filter", "air filter", "cabin filter", "cabin air filter", "wiper blade", "wiper blades",
        "filtre", "filtre a huile", "filtre a air", "filtre d'habitacle", "essuie-glace", "essuie-glaces",
        "balais d'essuie-glace",
        "gas cap", "bouchon d'essence", "floor liners", "cargo tray", "cargo liner", "plateau de coffre",
        "at the counter", "au comptoir",
    ),
    "finance": (
        "payoff", "pay off", "pay-off", "payout", "loan", "my lease", "end of lease", "lease return",
        "lease buyout", "buyout", "buy out", "buying out", "buy-out", "credit application", "credit",
        "financing", "refinance", "statement", "balance owing", "my payments",
        "pret", "ma location", "fin de location", "fin de bail", "rachat", "demande de credit",
        "financement", "refinancement", "releve", "solde", "mes paiements",
        "my interest rate", "interest rate i'm paying", "interest rate on my", "mon taux d'interet", "pay it off",
        "defer my payment", "defer a payment", "skip a payment", "reporter mon paiement", "reporter un paiement",
        "report de paiement", "sauter un paiement",
    ),
    "body_shop": (
        "collision", "accident", "dent", "dents", "scratch", "scratches", "body shop", "bodywork",
        "body work", "insurance claim", "claim", "insurance", "hail", "bumper", "paint", "fender",
        "carrosserie", "bosse", "bosses", "debosselage", "rayure", "rayures", "reclamation d'assurance",
        "reclamation", "assurance", "grele", "pare-chocs", "peinture", "aile",
        "scratched", "scrape", "scraped", "egratigne", "egratignee", "egratignure", "egratignures",
    ),
}  # fmt: skip

INQUIRY_PHRASES: dict[str, tuple[str, ...]] = {
    "test_drive": ("test drive", "test-drive", "essai routier", "essai", "drive it", "l'essayer"),
    "trade_in": ("trade-in", "trade in", "trading in", "my trade", "echange", "reprise", "valeur de mon"),
    "financing": (
        "financing", "finance", "monthly payment", "payments", "payment", "lease", "leasing", "loan",
        "credit", "apr", "interest rate", "financement", "paiement", "paiements", "mensualite", "location",
        "taux", "pret",
    ),
    "price": (
        "price", "pricing", "best price", "quote", "how much", "cost", "msrp", "out the door", "discount",
        "available", "availability", "in stock", "still have",
        "prix", "meilleur prix", "combien", "soumission", "cout", "rabais", "disponible", "disponibilite",
        "en inventaire",
    ),
}  # fmt: skip

# A person asking the store to stop mailing them (CASL and CAN-SPAM: honoured at once).
UNSUBSCRIBE_PHRASES = (
    "unsubscribe", "unsubscribe me", "remove me from your list", "remove me from your mailing list",
    "remove me from your email list", "remove me from your emails", "take me off your list",
    "take me off your mailing list", "stop emailing me", "stop sending me", "stop e-mailing me",
    "no more emails", "do not email me", "don't email me", "do not contact me", "don't contact me",
    "desabonner", "me desabonner", "desabonnez-moi", "desabonnement", "desinscrire", "me desinscrire",
    "desinscrivez-moi", "retirez-moi de votre liste", "retirer de votre liste", "retirez mon adresse",
    "ne plus recevoir", "cessez de m'ecrire", "cessez de m'envoyer", "arretez de m'envoyer",
    "arretez de m'ecrire", "ne me contactez plus", "ne plus me contacter",
)  # fmt: skip
# A message that is nothing but this word asks the same.
UNSUBSCRIBE_WORDS = ("stop", "arret", "arreter", "unsubscribe", "desabonner", "remove")

# Subjects of automatic replies; plain words a customer might write ("vacation") are left out.
OUT_OF_OFFICE_SUBJECTS = (
    "out of office", "out of the office", "automatic reply", "auto reply", "autoreply", "auto-reply",
    "auto response", "autoresponse", "vacation reply", "vacation response", "away message",
    "absence du bureau", "reponse automatique", "absent du bureau", "absente du bureau",
    "message d'absence", "avis d'absence", "reponse d'absence", "hors du bureau",
    "absent jusqu'au", "absente jusqu'au", "en vacances jusqu'au", "en conge jusqu'au",
)  # fmt: skip

# A subject that opens like "Absence : …", "Away until Monday" or « Absente - de retour le 4 janvier »;
# "Absence of a spare tire" does not.
OUT_OF_OFFICE_SUBJECT_START = re.compile(
    r"^\s*(?:absence\s*:|(?:absente?|away|out|on vacation|on leave|en vacances|en conge)"
    r"(?:\s+(?:until|jusqu'|de retour)|\s*[-:,]\s*(?:back|de retour)\b))"
)

# An absence notice written in the body ("I am out of the office until…"). See
# triage.out_of_office_body for the conditions that keep a customer's own words out.
OUT_OF_OFFICE_PHRASES = (
    "out of the office", "out of office", "away from the office", "away from my desk", "on vacation",
    "on holiday", "on holidays", "on leave", "on annual leave", "on parental leave", "on maternity leave",
    "absent du bureau", "absente du bureau", "hors du bureau", "en vacances", "en conge", "absent",
    "absente", "a l'exterieur du bureau", "a l'exterieur du pays", "currently away", "presentement absent",
    "presentement absente",
)  # fmt: skip
# Absences a customer writes of themselves too ("I'm out of town until Friday, I'll call you when I
# get back"): an absence notice only beside a responder's promise to answer the sender's message.
WEAK_OUT_OF_OFFICE_PHRASES = (
    "out of town", "away until", "travelling", "traveling", "a l'exterieur", "en formation",
)  # fmt: skip
RESPONDER_PHRASES = (
    "will reply", "will respond", "will answer", "will get back to you",
    "je vous repondrai", "je repondrai", "repondrai a votre", "repondrai a vos", "je donnerai suite",
    "donnerai suite a votre",
)  # fmt: skip
# Where an absence notice sends the reader instead ("for fleet maintenance, please contact Denis"):
# the department words of that sentence are someone else's job, not the writer's request.
REFERRAL_PHRASES = (
    "contact", "please contact", "get in touch with", "reach out to", "write to", "speak to",
    "communiquer avec", "communiquez avec", "contacter", "contactez", "joindre", "rejoindre",
    "ecrire a", "ecrivez a", "s'adresser a", "adressez-vous a",
)  # fmt: skip
# A spam filter's challenge, asking the store to prove it is a person before the mail is delivered.
SENDER_VERIFICATION_PHRASES = (
    "complete the verification process", "verify your email address", "verify that you are a person",
    "verify that you are human", "prove that you are human", "protecting myself from receiving junk mail",
    "processus de verification", "verifier que vous etes", "confirmer que vous etes une personne",
    "confirmer votre adresse courriel", "me proteger des pourriels",
)  # fmt: skip
# …which says when the writer is back.
RETURN_PHRASES = (
    "until", "till", "return", "returning", "back on", "back in", "back at", "limited access",
    "jusqu'au", "jusqu'a", "jusqu'en", "retour", "de retour", "acces limite",
)  # fmt: skip
# A person asking for something, which an absence notice never does.
REQUEST_PHRASES = (
    "call me", "text me", "contact me", "i'd like", "i would like", "interested in", "can we", "could we",
    "appelez-moi", "rappelez-moi", "contactez-moi", "j'aimerais", "je voudrais", "interesse", "interessee",
    "pourrions-nous", "peut-on", "stop by", "drop by", "come by", "je passerai", "passer vous voir",
)  # fmt: skip

# Subjects of delivery failure notices, as they open: "Undeliverable: …", "Non remis : …".
BOUNCE_SUBJECTS = (
    "undeliverable", "message non remis", "undelivered mail", "delivery status notification", "mail delivery failed",
    "delivery failure", "returned mail", "failure notice", "delivery has failed", "could not be delivered",
    "mail delivery failure", "delivery failed",
    "non remis", "echec de la remise", "message non delivre", "impossible de remettre",
    "notification d'etat de remise", "non distribuable", "echec de livraison", "remise impossible",
)  # fmt: skip

# What a delivery failure notice says of the message (a parcel's failed delivery says none of it).
DELIVERY_NOTICE_PHRASES = (
    "could not be delivered", "couldn't be delivered", "was not delivered", "wasn't delivered",
    "could not deliver", "delivery has failed", "delivery to the following recipient",
    "delivery to the following recipients", "the following address(es) failed", "the following addresses failed",
    "message not delivered", "returned to sender", "mail delivery software", "delivery status notification",
    "user unknown", "no such user", "mailbox unavailable", "recipient address rejected", "undeliverable",
    "n'a pas pu etre remis", "n'a pas pu etre distribue", "n'a pas pu etre livre", "n'a pas pu etre transmis",
    "echec de la remise", "impossible de remettre", "remise impossible", "destinataire inconnu",
)  # fmt: skip

PERMANENT_FAILURE_PHRASES = (
    "user unknown", "does not exist", "no such user", "mailbox unavailable", "address rejected",
    "recipient address rejected", "mailbox not found", "permanent error", "permanent failure",
    "n'existe pas", "destinataire inconnu", "adresse introuvable", "echec permanent",
)  # fmt: skip

FRENCH_WORDS = frozenset(
    "le la les des du de un une est et je vous nous pour avec pas que qui dans sur mon ma mes au aux ce "
    "cette bonjour merci voiture vehicule aimerais voudrais serait votre vos svp plait oui non mais "
    "avez etes suis quel quelle prix essai courriel telephone salutations cordialement".split()
)
ENGLISH_WORDS = frozenset(
    "the is and to of a i you we for with not that this in on my your would like please can what "
    "hello hi thanks thank car vehicle are am be have has do does price test drive email phone regards "
    "best it at if when there".split()
)


# Every department phrase (folded) → its department. Matching all of them in one pass lets the
# longest phrase win: "my lease" is finance's, not sales' "lease".
DEPARTMENT_OF_PHRASE: dict[str, str] = {
    fold(phrase): department
    for department, phrases in reversed(DEPARTMENT_PHRASES.items())
    for phrase in phrases
}
