"""The payer-side Da Vinci DTR server: Questionnaires generated from the policies, `$questionnaire-package`."""
