"""A first qualification questionnaire, so the application works out of the box; the operator
changes the questions, points and pass mark in the console."""

from django.db import migrations

QUESTIONS = [
    (
        "experience",
        "Depuis combien de temps votre structure accompagne-t-elle des personnes au numérique ?",
        [("Moins d'un an", 1), ("De 1 à 3 ans", 3), ("Plus de 3 ans", 5)],
    ),
    (
        "staff",
        "Combien de personnes de votre équipe sont formées à la médiation numérique ?",
        [("Aucune pour l'instant", 0), ("Une personne", 3), ("Deux personnes ou plus", 5)],
    ),
    (
        "equipment",
        "De quel équipement le public dispose-t-il chez vous ?",
        [("Aucun poste en libre accès", 0), ("1 à 3 postes connectés", 2), ("4 postes connectés ou plus", 4)],
    ),
    (
        "audiences",
        "Accueillez-vous des personnes éloignées du numérique (seniors, allocataires, demandeurs d'emploi…) ?",
        [("Rarement", 0), ("Régulièrement", 2), ("C'est notre activité principale", 4)],
    ),
]


def seed(apps, schema_editor):
    Question = apps.get_model("mediators", "Question")
    Choice = apps.get_model("mediators", "Choice")
    SchemeSettings = apps.get_model("mediators", "SchemeSettings")
    SchemeSettings.objects.get_or_create(pk=1)
    if Question.objects.exists():
        return
    for rank, (category, text, choices) in enumerate(QUESTIONS, 1):
        question = Question.objects.create(category=category, text=text, rank=rank)
        for choice_rank, (label, points) in enumerate(choices, 1):
            Choice.objects.create(question=question, label=label, points=points, rank=choice_rank)


class Migration(migrations.Migration):
    dependencies = [("mediators", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
