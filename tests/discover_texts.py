"""Texts for the ``discover`` tests and benchmark, written for this project (no dataset text).

``INJECTED``: 36 short texts in eight languages on one story outside the SemEval-2025
taxonomy (neither the war nor the climate): a rumour that hackers took over a town's
water-treatment plant and changed the chemical dosing, the town's denial and the
fact-checks. Varied wording and form (posts, news items, comments), so a cluster that
holds them is found by meaning, not by a repeated sentence.

``TOPICS``: three small families of English and Russian paragraphs on other everyday
topics (a bakery festival, a football transfer, a rail strike), the distinct clusters the
fast unit tests expect, and ``GROWN``: later posts of the water story, for the stable-id
test (a rerun on a grown corpus keeps the cluster's id).
"""

from __future__ import annotations

# (language, text); paragraphs are separated by a blank line
INJECTED: list[tuple[str, str]] = [
    (
        "en",
        "Hackers broke into the Riverton water treatment plant overnight and raised the "
        "sodium hydroxide dosing to dangerous levels, according to posts shared thousands "
        "of times.\n\nThe town's water utility says the operator noticed the change within "
        "minutes and reversed it before any treated water reached homes.",
    ),
    (
        "en",
        "DO NOT DRINK THE TAP WATER. My cousin works at the waterworks and says someone "
        "remotely took control of the chlorine pumps last night. They are hiding it!!",
    ),
    (
        "en",
        "Fact check: no, the Riverton water supply was not poisoned by hackers. The "
        "utility confirmed a failed login attempt on its remote-access system but said "
        "chemical levels never left the safe range.",
    ),
    (
        "en",
        "Residents queued for bottled water on Tuesday after a rumour spread online that "
        "the municipal water plant's control system had been hijacked and lye added to "
        "the reservoir.\n\nHealth officials urged calm and published the latest water "
        "quality tests, which showed normal pH and chlorine readings.",
    ),
    (
        "en",
        "Why is nobody talking about the cyberattack on the water treatment plant? The "
        "mayor won't answer questions about who accessed the dosing controls.",
    ),
    (
        "en",
        "The water company has issued a statement: its treatment plant was not hacked, "
        "no chemicals were added to drinking water, and the viral screenshot of a control "
        "panel comes from a training video.",
    ),
    (
        "ru",
        "Хакеры взломали систему управления водоочистной станцией Ривертона и повысили "
        "дозу щёлочи в питьевой воде, утверждают пользователи соцсетей.\n\nВодоканал "
        "заявил, что оператор заметил изменение за несколько минут и вернул настройки.",
    ),
    (
        "ru",
        "Не пейте воду из-под крана! Говорят, ночью кто-то удалённо получил доступ к "
        "насосам хлорирования на городском водозаборе, а власти всё скрывают.",
    ),
    (
        "ru",
        "Проверка фактов: слухи об отравлении городского водопровода хакерами не "
        "подтвердились. Водоканал признал попытку входа в систему удалённого доступа, но "
        "уровень реагентов в воде оставался в норме.",
    ),
    (
        "ru",
        "Жители скупают бутилированную воду после сообщений о кибератаке на "
        "очистные сооружения водоканала. Санитарная служба опубликовала анализы воды: "
        "кислотность и содержание хлора в пределах нормы.",
    ),
    (
        "uk",
        "Хакери зламали систему керування водоочисною станцією і підвищили дозу лугу в "
        "питній воді, пишуть користувачі соцмереж.\n\nВодоканал запевняє, що оператор "
        "помітив зміну за кілька хвилин і все виправив.",
    ),
    (
        "uk",
        "Не пийте воду з крана! Кажуть, уночі хтось віддалено отримав доступ до насосів "
        "хлорування на міській водоочисній станції, а влада мовчить.",
    ),
    (
        "uk",
        "Перевірка фактів: чутки про отруєння міського водогону хакерами не "
        "підтвердилися. Аналізи води показують нормальний рівень хлору.",
    ),
    (
        "bg",
        "Хакери са проникнали в системата за управление на пречиствателната станция за "
        "питейна вода и са увеличили дозата на натриева основа, твърдят публикации в "
        "социалните мрежи.\n\nВодоснабдителната компания заяви, че операторът е забелязал "
        "промяната за минути и я е отменил.",
    ),
    (
        "bg",
        "Не пийте чешмяна вода! Казват, че през нощта някой дистанционно е поел контрола "
        "върху помпите за хлориране във водопречиствателната станция, а властите мълчат.",
    ),
    (
        "bg",
        "Проверка на фактите: слуховете, че хакери са отровили градския водопровод, са "
        "неверни. Пробите от водата показват нормални нива на хлор и киселинност.",
    ),
    (
        "bg",
        "Жителите изкупиха бутилираната вода в магазините след слух за кибератака срещу "
        "водопречиствателната станция на града.",
    ),
    (
        "pt",
        "Hackers invadiram o sistema de controle da estação de tratamento de água de "
        "Riverton e aumentaram a dose de soda cáustica, segundo publicações compartilhadas "
        "milhares de vezes.\n\nA empresa de saneamento diz que o operador percebeu a "
        "alteração em minutos e a reverteu.",
    ),
    (
        "pt",
        "Não bebam a água da torneira! Dizem que alguém assumiu remotamente o controle das "
        "bombas de cloro da estação de tratamento ontem à noite e a prefeitura está "
        "escondendo tudo.",
    ),
    (
        "pt",
        "Checagem: é falso que hackers envenenaram o abastecimento de água da cidade. A "
        "companhia confirmou uma tentativa de acesso remoto, mas os níveis de produtos "
        "químicos na água continuaram normais.",
    ),
    (
        "pt",
        "Moradores fizeram fila para comprar água mineral depois do boato de um ataque "
        "cibernético à estação de tratamento de água.",
    ),
    (
        "de",
        "Hacker sollen die Steuerung des Wasserwerks übernommen und die Dosierung von "
        "Natronlauge im Trinkwasser erhöht haben, heißt es in tausendfach geteilten "
        "Beiträgen.\n\nDie Stadtwerke erklären, der Techniker habe die Änderung nach "
        "wenigen Minuten bemerkt und rückgängig gemacht.",
    ),
    (
        "de",
        "Trinkt kein Leitungswasser! Angeblich hat heute Nacht jemand aus der Ferne die "
        "Chlorpumpen im Wasserwerk gesteuert und die Behörden verschweigen es.",
    ),
    (
        "de",
        "Faktencheck: Das Trinkwasser der Stadt wurde nicht von Hackern vergiftet. Die "
        "Messwerte für Chlor und pH-Wert lagen laut Gesundheitsamt stets im Normalbereich.",
    ),
    (
        "de",
        "Nach Gerüchten über einen Cyberangriff auf die Trinkwasseraufbereitung kauften "
        "Anwohner die Supermärkte leer: Wasserflaschen waren binnen Stunden ausverkauft.",
    ),
    (
        "fr",
        "Des pirates informatiques auraient pris le contrôle de l'usine de traitement des "
        "eaux et augmenté la dose de soude caustique dans l'eau potable, selon des "
        "messages largement partagés.\n\nLe service des eaux affirme que l'opérateur a "
        "repéré la modification en quelques minutes.",
    ),
    (
        "fr",
        "Ne buvez pas l'eau du robinet ! Quelqu'un aurait piloté à distance les pompes de "
        "chloration de la station d'eau potable cette nuit, et la mairie se tait.",
    ),
    (
        "fr",
        "Vérification : non, le réseau d'eau potable de la ville n'a pas été empoisonné par "
        "des hackers. Les analyses montrent des taux de chlore normaux.",
    ),
    (
        "es",
        "Unos hackers tomaron el control de la planta potabilizadora y subieron la dosis "
        "de sosa cáustica en el agua del grifo, según mensajes compartidos miles de veces."
        "\n\nLa empresa de aguas asegura que el operador detectó el cambio en minutos.",
    ),
    (
        "es",
        "¡No bebáis agua del grifo! Dicen que anoche alguien manejó a distancia las bombas "
        "de cloro de la depuradora y el ayuntamiento lo oculta.",
    ),
    (
        "es",
        "Verificación: es falso que unos piratas informáticos envenenaran el suministro de "
        "agua de la ciudad. Los análisis muestran niveles de cloro normales.",
    ),
    (
        "it",
        "Alcuni hacker avrebbero preso il controllo dell'impianto di potabilizzazione e "
        "aumentato la dose di soda caustica nell'acqua del rubinetto, secondo post "
        "condivisi migliaia di volte.",
    ),
    (
        "it",
        "Verifica dei fatti: l'acqua potabile della città non è stata avvelenata da "
        "hacker. Le analisi mostrano livelli di cloro nella norma.",
    ),
    (
        "pl",
        "Hakerzy przejęli system sterowania stacją uzdatniania wody i zwiększyli dawkę "
        "wodorotlenku sodu w wodzie pitnej, twierdzą internauci.\n\nWodociągi zapewniają, "
        "że operator zauważył zmianę w ciągu kilku minut.",
    ),
    (
        "pl",
        "Nie pijcie wody z kranu! Podobno w nocy ktoś zdalnie sterował pompami chloru w "
        "stacji uzdatniania wody, a władze milczą.",
    ),
    (
        "hi",
        "सोशल मीडिया पर दावा किया जा रहा है कि हैकरों ने शहर के जल शोधन संयंत्र पर "
        "कब्ज़ा कर लिया और पीने के पानी में रसायन की मात्रा बढ़ा दी। जल विभाग ने कहा कि "
        "पानी की जांच में क्लोरीन का स्तर सामान्य है।",
    ),
]

# Later posts of the same story (a grown corpus for the stable-id test).
GROWN: list[tuple[str, str]] = [
    (
        "en",
        "Another night of panic: people claim the water plant's dosing computer was hacked "
        "again and caustic soda was pumped into the mains. The utility denies it.",
    ),
    (
        "en",
        "Officials repeat that the drinking water is safe: the chlorine and pH readings "
        "stayed normal and no hacker changed the treatment plant's chemical dosing.",
    ),
    (
        "ru",
        "Снова слухи о том, что хакеры изменили дозировку реагентов на станции "
        "водоочистки. Водоканал: вода безопасна, показатели хлора в норме.",
    ),
    (
        "de",
        "Erneut kursiert die Behauptung, Hacker hätten die Chemikaliendosierung im "
        "Wasserwerk manipuliert. Die Stadtwerke dementieren.",
    ),
]

# Other topics, for the unit tests: each list one story, in its own words.
TOPICS: dict[str, list[tuple[str, str]]] = {
    "bakery": [
        ("en", "The annual bread festival filled the old market square with bakers and stalls."),
        ("en", "Visitors tasted sourdough loaves, rye bread and cinnamon buns at the bakery fair."),
        ("en", "Local bakers won prizes for the best croissant and the best wholegrain loaf."),
        ("en", "The bread festival's baking contest drew a record crowd to the market square."),
        ("en", "Children learned to knead dough and bake rolls at the festival's bakery tent."),
        ("ru", "На ежегодном фестивале хлеба пекари продавали ржаной хлеб и булочки с корицей."),
        ("ru", "Лучшим хлебом фестиваля жюри признало ржаной каравай местной пекарни."),
        ("en", "Queues formed at every bakery stall as the bread festival opened on Saturday."),
    ],
    "football": [
        ("en", "The striker completed his transfer to the Spanish club for a record fee."),
        ("en", "The football club signed the forward on a five-year contract after a medical."),
        ("en", "Fans greeted the new striker at the stadium after his transfer was confirmed."),
        ("en", "The transfer fee for the forward broke the club's previous record signing."),
        ("en", "The coach said the new striker will make his debut in Sunday's league match."),
        ("ru", "Нападающий подписал пятилетний контракт с испанским футбольным клубом."),
        ("ru", "Сумма трансфера форварда стала рекордной для футбольного клуба."),
        ("en", "Supporters bought the new forward's shirt in thousands after the transfer news."),
    ],
    "rail": [
        ("en", "Train drivers walked out on Monday, halting rail services across the country."),
        ("en", "Commuters faced cancelled trains as the railway strike entered its second day."),
        ("en", "The rail union called the strike over pay and the closure of ticket offices."),
        ("en", "Only a few trains ran during the strike, and stations stood empty at rush hour."),
        ("en", "Talks between the railway company and the drivers' union broke down again."),
        ("ru", "Машинисты поездов объявили забастовку, и движение электричек остановилось."),
        ("ru", "Пассажиры не могли уехать на работу из-за забастовки железнодорожников."),
        ("en", "Rail passengers were told to work from home while the train strike lasts."),
    ],
}
